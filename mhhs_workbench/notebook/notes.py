"""Messages in a notebook's own language: notes instead of warnings, parameters instead of flags.

The library's advice is written once with its remedies named by key
(:mod:`mhhs_workbench.codes.remedies`); in a notebook it names the parameter to set. Warnings become plain
``Note: ...`` lines, and an expected stop (a data set already there, a bad parameter) shows its
one-line message instead of a traceback, while still failing a headless run.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator

from mhhs_workbench.codes.remedies import worded

__all__ = ["NotebookStop", "as_parameters", "notes", "show_warnings_as_notes"]


class NotebookStop(Exception):  # noqa: N818 - it is a stop, shown as such
    """An expected condition that ends a notebook run, shown as its message without a traceback.

    IPython shows an exception through ``_render_traceback_`` when it has one; papermill still
    records the error, so a headless run fails and names the message.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"Stopped: {self}"]


def as_parameters(message: object) -> str:
    """A message (an exception, a warning or a text) with its advice naming the notebook's
    parameters instead of the command line's flags (see :mod:`mhhs_workbench.codes.remedies`).

    Examples
    --------
    >>> from mhhs_workbench.codes.remedies import Advice
    >>> as_parameters(Advice("{target} already exists; {another_out} or {overwrite} to replace it", target="x"))
    'x already exists; set `out` to another folder or set `overwrite = True` to replace it'
    """
    return worded(message, "notebook")


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
        text = as_parameters(w.message)
        if text not in seen:  # the same warning from every chunk is one note
            seen.add(text)
            _print_note(text)


def show_warnings_as_notes() -> None:
    """From now on, show every warning of this kernel as a ``Note: ...`` line (not on stderr)."""
    warnings.showwarning = lambda message, *args, **kwargs: _print_note(as_parameters(message))
