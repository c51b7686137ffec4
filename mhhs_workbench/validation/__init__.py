"""Check DIP messages and data sets: JSON Schemas, business rules, cross-message rules, reports.

The public names of the subpackage (``validate_files`` and what it returns).
"""

from mhhs_workbench.validation.checks import (
    AUTO_SPEC,
    RULES,
    FileReport,
    Problem,
    Rule,
    ValidationReport,
    business_problems,
    choose_spec,
    format_report,
    validate_files,
    validate_payload,
)

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
