"""Advice in the words of where it is read: the command line, a notebook or a widget panel.

A message that tells the user what to do names each remedy by a key of :data:`REMEDIES` in
braces, and the message is built once as an :class:`Advice`:

>>> message = Advice("{target} already exists; {another_out} or {overwrite} to replace it", target="d")
>>> str(message)  # the command line's words: what the library's own errors print
'd already exists; choose another --out or pass --overwrite to replace it'
>>> worded(message, "notebook")
'd already exists; set `out` to another folder or set `overwrite = True` to replace it'
>>> worded(message, "panel")
'd already exists; choose another Output folder or tick "Replace an existing data set" to replace it'

:func:`worded` takes an exception, a warning or a text; anything without advice comes back as its
``str()``. An :class:`Advice` is a ``str``, so code that only prints a message needs nothing new.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FRONTS", "REMEDIES", "Advice", "worded"]

#: Where a message is read: the command line, a notebook (papermill parameters), a widget panel.
FRONTS: tuple[str, ...] = ("cli", "notebook", "panel")

#: Each remedy in the words of each front, in :data:`FRONTS` order.
REMEDIES: dict[str, tuple[str, str, str]] = {
    "another_out": ("choose another --out", "set `out` to another folder", "choose another Output folder"),
    "out_outside": ("choose an --out outside it", "set `out` to a folder outside it",
                    "choose an Output folder outside it"),
    "out_itself": ("give the folder itself as --out", "set `out` to the folder itself",
                   "give the folder itself as the Output folder"),
    "overwrite": ("pass --overwrite", "set `overwrite = True`", 'tick "Replace an existing data set"'),
    "replacing": ("--overwrite", "`overwrite`", "replacing"),
    "extra_files": ("pass --overwrite-extra-files to delete them too",
                    "set `overwrite_extra_files = True` to delete them too", "choose another Output folder"),
    "modified": ("pass --overwrite-modified to replace it anyway",
                 "set `overwrite_modified = True` to replace it anyway", "choose another Output folder"),
    "smaller": ("make the scenario smaller (meters, dates, outputs) or pass --allow-large",
                "make the scenario smaller (`meters`, dates, outputs) or set `allow_large = True`",
                "export fewer meters, fewer days or fewer interfaces"),
    "less_memory": ("use a smaller --chunk-size or pass --allow-large",
                    "set a smaller `chunk_size` or `allow_large = True`", "export fewer meters"),
    "fill_missing": ("(fill_missing, --fill-missing)", "(`fill_missing`)", "(fill missing half hours)"),
    "max_kwh": ("(max_kwh, --max-kwh)", "(`max_kwh`)", "(the largest half hour allowed)"),
}


def _words(front: str) -> dict[str, str]:
    if front not in FRONTS:
        raise ValueError(f"unknown front {front!r}; expected one of {', '.join(FRONTS)}")
    at = FRONTS.index(front)
    return {key: words[at] for key, words in REMEDIES.items()}


class Advice(str):
    """A message whose advice names remedies by key; as a ``str`` it reads as on the command line.

    Parameters
    ----------
    template : str
        The message with ``{key}`` for each remedy (a key of :data:`REMEDIES`) and each field.
    **fields
        Values of the template's other placeholders (paths, counts, ...).
    """

    template: str
    fields: dict[str, Any]

    def __new__(cls, template: str, **fields: Any) -> Advice:
        made = super().__new__(cls, template.format(**fields, **_words("cli")))
        made.template, made.fields = template, fields
        return made

    def worded(self, front: str) -> str:
        """The message with its remedies in the words of ``front`` (one of :data:`FRONTS`)."""
        return self.template.format(**self.fields, **_words(front))

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (Dask) keep the template
        return (_rebuild, (self.template, self.fields))


def _rebuild(template: str, fields: dict[str, Any]) -> Advice:
    return Advice(template, **fields)


def worded(message: object, front: str) -> str:
    """``message`` (an exception, a warning or a text) with its advice in the words of ``front``.

    An object with a ``worded(front)`` method (an :class:`Advice`, an error holding several) words
    itself; an exception or warning whose only argument is an :class:`Advice` is worded by it;
    anything else is its ``str()``.
    """
    if hasattr(message, "worded"):
        return message.worded(front)  # type: ignore[union-attr]
    if isinstance(message, BaseException) and len(message.args) == 1 and isinstance(message.args[0], Advice):
        return message.args[0].worded(front)
    return str(message)
