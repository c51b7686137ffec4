"""Small helpers shared by the panels: CSS classes, image outputs, status lines."""

from __future__ import annotations

import base64
import html
from typing import TypeVar

import ipywidgets as widgets

W = TypeVar("W", bound=widgets.DOMWidget)

#: Prefix of every CSS class the panels put on their widgets (browser tests select by them).
CSS_PREFIX = "mhhs-"

#: Width of control descriptions, so the controls of a panel line up.
DESCRIPTION_STYLE = {"description_width": "11em"}


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
