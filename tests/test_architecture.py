"""The package's shape: folders that are layers, no import cycle, small files and functions."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mhhs_workbench"
#: Longest module [lines] and function [lines, docstring included] the project allows.
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 80
#: Most modules directly in the package folder: the rest live in the layer folders.
MAX_TOP_LEVEL_MODULES = 15


def _cycles_module():
    spec = importlib.util.spec_from_file_location("import_cycles", ROOT / "scripts" / "import_cycles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cycle_finder_finds_a_circle_and_only_circles() -> None:
    find = _cycles_module().strongly_connected
    assert find({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
    assert sorted(find({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}})) == [["a", "b"], ["c", "d"]]


def test_no_import_cycle_between_files_or_folders() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "import_cycles.py")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("0 import cycles")


def test_layer_contracts_hold() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    if not linter.exists():
        pytest.fail(f"lint-imports is not installed beside {sys.executable} (test extra)")
    done = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


def test_few_modules_sit_directly_in_the_package() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def test_files_and_functions_are_small() -> None:
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        if len(text.splitlines()) > MAX_FILE_LINES:
            too_long.append(f"{where}: {len(text.splitlines())} lines")
        for node in _functions(ast.parse(text)):
            length = node.end_lineno - node.lineno + 1
            why = "must be" in (ast.get_docstring(node) or "")
            if length > MAX_FUNCTION_LINES and not why:
                too_long.append(f"{where}:{node.lineno} {node.name}: {length} lines")
    assert not too_long, "\n".join(too_long)


def _guarded(function: ast.AST) -> set[int]:
    """Nodes inside ``try: ... except ImportError``: an optional extra's import, refused in words."""
    guarded = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                for h in node.handlers):
            guarded.update(id(n) for part in node.body for n in ast.walk(part))
    return guarded


#: Imports inside functions on purpose, where start-up time is a user's waiting time: the command
#: line imports a command's machinery when it runs; a data set without negative cases never loads
#: the negative catalogue (and jsonschema). Each is commented where it stands.
LAZY_ON_PURPOSE = {"cli.py": None, "dataset.py": {"mhhs_workbench.negative.cases"}}


def test_package_imports_sit_at_module_top() -> None:
    """Imports inside functions only for optional extras, which the module's import must not need,
    and the few listed in :data:`LAZY_ON_PURPOSE`."""
    optional = ("papermill", "nbformat", "dask", "distributed", "duckdb", "ipywidgets", "IPython",
                "ipykernel", "playwright", "sklearn")
    inside = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for function in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            guarded = _guarded(function)
            for node in ast.walk(function):
                if id(node) in guarded:
                    continue
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                else:
                    continue
                lazy = LAZY_ON_PURPOSE.get(str(path.relative_to(PACKAGE)), set())
                if lazy is None or set(names) <= lazy:
                    continue
                if any(n.split(".")[0] not in optional for n in names):
                    inside.append(f"{path.relative_to(ROOT)}:{node.lineno} {', '.join(names)}")
    assert not inside, "\n".join(inside)


def test_architecture_doc_names_every_folder_and_module() -> None:
    """docs/architecture.md lists each layer folder's modules; a module added or removed shows here."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 5 and cells[1].startswith("`") and cells[1].endswith("/`"):
            rows[cells[1].strip("`/")] = {m.strip("`/") for m in cells[3].split(", ") if m}
    folders = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert sorted(rows) == folders
    for folder, listed in rows.items():
        present = {p.stem for p in (PACKAGE / folder).glob("*.py") if p.stem != "__init__"}
        present |= {p.name for p in (PACKAGE / folder).iterdir() if (p / "__init__.py").is_file()}
        assert listed == present, (folder, sorted(listed ^ present))
