"""Messages in a notebook's own language: notes instead of warnings, parameters instead of flags.

The library's messages are written for the command line (``choose another --out or pass
--overwrite``); in a notebook the same advice names the parameter to set. Warnings become plain
``Note: ...`` lines, and an expected stop (a data set already there, a bad parameter) shows its
one-line message instead of a traceback, while still failing a headless run.
"""

from __future__ import annotations

import contextlib
import re
import sys
import warnings
from collections.abc import Iterator

__all__ = ["NotebookStop", "as_parameters", "notes", "show_warnings_as_notes"]


class NotebookStop(Exception):  # noqa: N818 - it is a stop, shown as such
    """An expected condition that ends a notebook run, shown as its message without a traceback.

    IPython shows an exception through ``_render_traceback_`` when it has one; papermill still
    records the error, so a headless run fails and names the message.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"Stopped: {self}"]


_FLAG_PHRASES = (
    (re.compile(r"\((\w+), --[\w-]+\)"), r"(`\1`)"),
    (re.compile(r"choose (?:another|an) --out"), "set `out` to another folder"),
    (re.compile(r"give the folder itself as --out"), "set `out` to the folder itself"),
    (re.compile(r"pass --([\w-]+)"), lambda m: f"set `{m.group(1).replace('-', '_')} = True`"),
    (re.compile(r"--([\w-]+)"), lambda m: f"`{m.group(1).replace('-', '_')}`"),
)


def as_parameters(message: str) -> str:
    """A command-line message with its flags turned into the notebook parameters of the same name.

    Examples
    --------
    >>> as_parameters("x already exists; choose another --out or pass --overwrite to replace it")
    'x already exists; set `out` to another folder or set `overwrite = True` to replace it'
    """
    for pattern, replacement in _FLAG_PHRASES:
        message = pattern.sub(replacement, message)
    return message


def _print_note(message: warnings.WarningMessage | Warning | str, *_: object, **__: object) -> None:
    print(f"Note: {message}", file=sys.stdout)


@contextlib.contextmanager
def notes() -> Iterator[None]:
    """Print the warnings raised inside the block as ``Note: ...`` lines on standard output."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    seen: set[str] = set()
    for w in caught:
        text = as_parameters(str(w.message))
        if text not in seen:  # the same warning from every chunk is one note
            seen.add(text)
            _print_note(text)


def show_warnings_as_notes() -> None:
    """From now on, show every warning of this kernel as a ``Note: ...`` line (not on stderr)."""
    warnings.showwarning = lambda message, *args, **kwargs: _print_note(as_parameters(str(message)))
