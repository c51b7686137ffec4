"""Draw the package's layers as a picture: ``docs/architecture.png``.

The layers are read from the import-linter contract in ``pyproject.toml``, the arrows from the
package's real imports (grimp, which import-linter uses), so the picture cannot drift from the
code: an arrow that pointed up would also break ``lint-imports``.

Run: ``python scripts/architecture_figure.py [--out docs/architecture.png]``.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import grimp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "mhhs_workbench"


def contract_layers(pyproject: Path) -> list[list[str]]:
    """The layers of the first ``layers`` contract, top first, each a list of sibling folders."""
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] == "layers":
            return [[name.strip().removeprefix(f"{PACKAGE}.") for name in layer.split("|")]
                    for layer in contract["layers"]]
    raise SystemExit("no layers contract in pyproject.toml")


def folder_imports() -> dict[tuple[str, str], int]:
    """Direct imports between top-level folders (and top-level modules): ``{(from, to): count}``."""
    graph = grimp.build_graph(PACKAGE)
    edges: dict[tuple[str, str], int] = {}
    for module in graph.modules:
        source = module.split(".")[1] if "." in module else None
        for imported in graph.find_modules_directly_imported_by(module):
            target = imported.split(".")[1] if "." in imported else None
            if source and target and source != target:
                edges[(source, target)] = edges.get((source, target), 0) + 1
    return edges


def draw(layers: list[list[str]], edges: dict[tuple[str, str], int], out: Path) -> None:
    """Boxes per layer, top to bottom, and an arrow per folder import (width by count)."""
    fig, ax = plt.subplots(figsize=(9, 0.62 * len(layers) + 0.6))
    where: dict[str, tuple[float, float]] = {}
    width, height = 2.3, 0.42
    for row, layer in enumerate(layers):
        y = len(layers) - row
        for col, name in enumerate(layer):
            x = -col * (width + 0.4)  # the first of a layer in the main column, siblings to its left
            where[name] = (x, y)
            ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                        boxstyle="round,pad=0.02,rounding_size=0.08",
                                        facecolor="#e8f0fb", edgecolor="#2b5797", linewidth=1.2))
            ax.text(x, y, f"{name}/" if name not in ("cli", "dataset") else f"{name}.py",
                    ha="center", va="center", fontsize=10, family="monospace")
    for (source, target), count in sorted(edges.items()):
        if source not in where or target not in where:
            continue
        (x0, y0), (x1, y1) = where[source], where[target]
        if abs(x0 - x1) < 1e-9:  # same column: an arc beside the boxes, longer jumps further out
            side = 1 if x0 >= 0 else -1  # main column: arcs on the right
            start, end = (x0 + side * width / 2, y0), (x1 + side * width / 2, y1)
            style = f"arc3,rad={-side * min(0.18 + 0.035 * abs(y0 - y1), 0.6)}"
        else:
            start, end = (x0, y0 - height / 2), (x1 + (width / 2 if x1 > x0 else -width / 2) * 0, y1 + height / 2)
            style = "arc3,rad=0.05"
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=8, color="#7f7f7f",
                                     linewidth=0.4 + 0.2 * min(count, 8), alpha=0.6,
                                     connectionstyle=style, zorder=0))
    xs = [x for x, _ in where.values()]
    ax.set_xlim(min(xs) - 0.7 * width, max(xs) + 2.7 * width)
    ax.set_ylim(0.4, len(layers) + 0.6)
    ax.axis("off")
    ax.set_title("mhhs_workbench: folders are layers; every arrow (an import) points down",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "architecture.png")
    args = parser.parse_args()
    draw(contract_layers(ROOT / "pyproject.toml"), folder_imports(), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
