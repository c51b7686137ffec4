"""Which schemas a run checks against: Elexon's release (chosen or automatic) and the package's.

:func:`choose_spec` turns what the caller asked for (nothing, :data:`AUTO_SPEC`, a version, a
folder or file) into a :class:`~mhhs_workbench.validation.spec_versions.Spec`;
:func:`run_validators` gives the schemas a message of one interface is checked against.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from mhhs_workbench.validation.schema import PayloadValidator, validator_for
from mhhs_workbench.validation.spec_versions import (
    LATEST_VERSION,
    SchemaError,
    Spec,
    dataset_spec_version,
    find_version,
    resolve_spec,
)

__all__ = ["AUTO_SPEC", "choose_spec", "run_validators"]

#: ``spec`` value meaning "the data set's own release (its scenario's ``spec_version``), else the
#: newest known, if found on the search path; the package's schema alone, with a note, if not".
AUTO_SPEC = "auto"


def choose_spec(
    paths: Iterable[str | os.PathLike[str]], spec: str | os.PathLike[str] | Spec | None
) -> tuple[Spec | None, str]:
    """The specification a run checks against, and a note when a default one was not found.

    Parameters
    ----------
    paths : iterable of path
        What is being validated (their data set's ``spec_version`` chooses the default).
    spec : str, path, Spec or None
        ``None``: no Elexon schema. :data:`AUTO_SPEC`: the data set's own release, or
        :data:`~mhhs_workbench.validation.spec_versions.LATEST_VERSION`, looked up on the search path;
        when it is not there, the run goes on without it (the package must work without
        Elexon's files) and the note says why. Anything else: a version, folder or file, which
        must be found.

    Returns
    -------
    (Spec or None, str)
        The specification, and the note (empty unless an automatic choice was not found).

    Raises
    ------
    SchemaError
        If an explicitly given specification cannot be found or identified.
    """
    if spec is None:
        return None, ""
    if isinstance(spec, str) and spec == AUTO_SPEC:
        version = dataset_spec_version(paths) or LATEST_VERSION
        try:
            return find_version(version), ""
        except SchemaError as exc:
            return None, f"Elexon's schema not checked: {exc}"
    return resolve_spec(spec), ""


def run_validators(
    interface_id: str, spec: Spec | None, nullable: str, package_schema: bool
) -> list[PayloadValidator]:
    """The schemas one run checks a message of ``interface_id`` against, package's first."""
    chosen = [validator_for(interface_id)] if package_schema else []
    if spec is not None:
        chosen.append(validator_for(interface_id, spec, nullable=nullable))
    return chosen
