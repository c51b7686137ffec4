"""Small helpers shared by the panels: CSS classes, layouts, image outputs, status lines."""

from __future__ import annotations

import base64
import datetime as dt
import html
from typing import TypeVar

import ipywidgets as widgets

from mhhs_workbench.codes.remedies import worded
from mhhs_workbench.scenario.errors import ScenarioError

W = TypeVar("W", bound=widgets.DOMWidget)

#: Prefix of every CSS class the panels put on their widgets (browser tests select by them).
CSS_PREFIX = "mhhs-"

#: Width of control descriptions, so the controls of a panel line up (wide enough for the
#: longest description, "Heat pump kWh/yr", at JupyterLab's font size).
DESCRIPTION_STYLE = {"description_width": "11em"}


def control_layout(width: str = "100%") -> widgets.Layout:
    """Layout of one control: as wide as its column, so option labels are not cut short."""
    return widgets.Layout(width=width, min_width="22em")


def as_controls(message: object) -> str:
    """A message (an exception or a text) with its advice naming the panel's controls instead of
    the command line's flags (see :mod:`mhhs_workbench.codes.remedies`).

    Examples
    --------
    >>> from mhhs_workbench.codes.remedies import Advice
    >>> as_controls(Advice("{target} already exists; {another_out} or {overwrite} to replace it", target="x"))
    'x already exists; choose another Output folder or tick "Replace an existing data set" to replace it'
    """
    return worded(message, "panel")


def iso_date(control: widgets.Text) -> dt.date:
    """The date a text control holds.

    Raises
    ------
    mhhs_workbench.scenario.errors.ScenarioError
        If it is not a date written ``YYYY-MM-DD`` (the message names the control).
    """
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
