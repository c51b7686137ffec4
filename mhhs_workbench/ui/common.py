"""Small helpers shared by the panels: CSS classes, layouts, image outputs, status lines."""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
from typing import TypeVar

import ipywidgets as widgets

W = TypeVar("W", bound=widgets.DOMWidget)

#: Prefix of every CSS class the panels put on their widgets (browser tests select by them).
CSS_PREFIX = "mhhs-"

#: Width of control descriptions, so the controls of a panel line up (wide enough for the
#: longest description, "Heat pump kWh/yr", at JupyterLab's font size).
DESCRIPTION_STYLE = {"description_width": "11em"}


def control_layout(width: str = "100%") -> widgets.Layout:
    """Layout of one control: as wide as its column, so option labels are not cut short."""
    return widgets.Layout(width=width, min_width="22em")


#: How the panels name what the command line calls a flag (messages come from the library).
_CONTROL_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"choose another --out or pass --overwrite"),
     "choose another Output folder or tick \"Replace an existing data set\""),
    (re.compile(r"choose (?:another|an) --out"), "choose another Output folder"),
    (re.compile(r"give the folder itself as --out"), "give the folder itself as the Output folder"),
    (re.compile(r"or pass --overwrite-extra-files to delete them too"),
     "or choose another Output folder"),
    (re.compile(r"--overwrite only replaces"), "replacing only replaces"),
    (re.compile(r"pass --overwrite"), "tick \"Replace an existing data set\""),
    (re.compile(r"--out\b"), "the Output folder"),
    (re.compile(r"--([\w-]+)"), lambda m: m.group(1).replace("-", " ")),
)


def as_controls(message: str) -> str:
    """A command-line message with its flags turned into the panel controls that do the same.

    Examples
    --------
    >>> as_controls("x already exists; choose another --out or pass --overwrite to replace it")
    'x already exists; choose another Output folder or tick "Replace an existing data set" to replace it'
    """
    for pattern, replacement in _CONTROL_PHRASES:
        message = pattern.sub(replacement, message)
    return message


def iso_date(control: widgets.Text) -> dt.date:
    """The date a text control holds.

    Raises
    ------
    mhhs_workbench.scenario.ScenarioError
        If it is not a date written ``YYYY-MM-DD`` (the message names the control).
    """
    from ..scenario import ScenarioError

    text = control.value.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ScenarioError(f"{control.description}: {text!r} is not a date written YYYY-MM-DD") from None


def tag(widget: W, name: str) -> W:
    """Give a widget the CSS class ``mhhs-<name>`` and return it."""
    widget.add_class(f"{CSS_PREFIX}{name}")
    return widget


def show_png(output: widgets.Output, png: bytes, alt: str = "figure") -> None:
    """Replace what an Output widget shows with one PNG image.

    The outputs are set as data rather than through ``display()`` so that it works the same with
    or without a running kernel (unit tests drive the panels without one).
    """
    output.outputs = (
        {
            "output_type": "display_data",
            "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": f"<{alt}>"},
            "metadata": {},
        },
    )


def status_html(text: str, *, error: bool = False) -> str:
    """A one-line status message as HTML, red for errors."""
    colour = "#b00020" if error else "#333"
    return f'<span style="color:{colour}">{html.escape(text)}</span>'
