"""Check DIP messages and data sets: JSON Schemas, business rules, cross-message rules, reports.

The public names of the subpackage (``validate_files`` and what it returns).
"""

from mhhs_workbench.codes.rules import RULES, Rule
from mhhs_workbench.validation.files import validate_files
from mhhs_workbench.validation.payload_rules import business_problems, validate_payload
from mhhs_workbench.validation.problems import (
    FileReport,
    Problem,
    ValidationReport,
    format_report,
)
from mhhs_workbench.validation.spec_choice import AUTO_SPEC, choose_spec

__all__ = [
    "AUTO_SPEC",
    "RULES",
    "FileReport",
    "Problem",
    "Rule",
    "ValidationReport",
    "business_problems",
    "choose_spec",
    "format_report",
    "validate_files",
    "validate_payload",
]
