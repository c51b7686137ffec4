"""Releases of Elexon's DIP API specification the package knows, by the sha256 of their files.

The catalogue only: where releases are found and how they are read is
:mod:`mhhs_workbench.validation.spec_versions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KnownVersion:
    """A release of the DIP API specification the package knows by checksum.

    Attributes
    ----------
    name : str
        Version, e.g. ``'2.2.1'``.
    kind : {'yaml', 'json'}
        Folder of unresolved YAML, or one resolved JSON document.
    sha256 : str
        Checksum of its files (see the module docstring for how a folder's is formed).
    folders : tuple of str
        Names of folders on the search path that may hold it.
    file : str
        The resolved document's file name (``json`` kind); empty for a YAML folder.
    """

    name: str
    kind: str
    sha256: str
    folders: tuple[str, ...]
    file: str = ""

    def candidates(self, root: Path) -> list[Path]:
        """Where this release may lie under one search-path folder, in the order tried."""
        if self.kind == "yaml":
            return [root / folder for folder in self.folders] + [root]
        return [root / folder / self.file for folder in self.folders] + [root / self.file]

    @property
    def looked_for(self) -> str:
        """What a search looks for, in words (for error messages)."""
        if self.kind == "yaml":
            places = " or ".join(f"{f}/" for f in self.folders)
            return f"{places} (or the YAML files themselves)"
        return " or ".join([*(f"{f}/{self.file}" for f in self.folders), self.file])


#: Every known release, oldest first.
KNOWN_VERSIONS: dict[str, KnownVersion] = {
    v.name: v
    for v in (
        # elexon-data/dip-api-documentation at commit ceafc54: the unresolved YAML files
        KnownVersion(
            "2.1.0",
            "yaml",
            "364f5002afd5a0a7d4a5c30d25edb8034c03e4596733124e145ed39aac189c78",
            ("dip-api-2.1.0", "dip-api"),
        ),
        # Elexon's published api-spec-2.2.1-resolved.json
        KnownVersion(
            "2.2.1",
            "json",
            "7d071b6ebba110ac6662fe235e75c4f3add1b33552347c5accabdd5968e87f9b",
            ("dip-api-2.2.1",),
            "api-spec-2.2.1-resolved.json",
        ),
    )
}

#: The newest known release: what ``validate`` checks against unless told otherwise.
LATEST_VERSION = next(reversed(KNOWN_VERSIONS))
