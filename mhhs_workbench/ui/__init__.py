"""ipywidgets panels of the workbench: the profile designer, its data set form and the export panel.

The panels are thin: every number comes from the package's functions, and each panel offers
plain methods (``profile()``, ``plot_data()``, ``to_scenario()``, ``export()``) that tests and
scripts call without a browser. Every widget carries a CSS class starting ``mhhs-``.
"""

from __future__ import annotations

from mhhs_workbench.ui.design_data import (
    ProfileDesign,
    archetype_average,
    design_meters,
    design_profile,
    view_data,
)
from mhhs_workbench.ui.designer import ProfileDesigner
from mhhs_workbench.ui.export_panel import INTERFACES, ExportPanel
from mhhs_workbench.ui.scenario_form import ScenarioForm

__all__ = [
    "INTERFACES",
    "ExportPanel",
    "ProfileDesign",
    "ProfileDesigner",
    "ScenarioForm",
    "archetype_average",
    "design_meters",
    "design_profile",
    "view_data",
]
