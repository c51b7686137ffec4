"""Report import cycles of the package: between its files and between its folders.

Exit status 1 when there is any cycle, printing each one; 0 and a one-line summary otherwise.
Run by the test command (``scripts/test.sh``) next to ``lint-imports``, whose layer contracts
say which way folders may import; this says that nothing imports in a circle, inside a folder too.

A package's ``__init__`` that re-exports its modules' names is not a cycle by itself; it becomes
one only when one of those modules imports the package back.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

import grimp


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of nodes that import one another in a circle (Tarjan's algorithm, iterative).

    Parameters
    ----------
    graph : dict of str to set of str
        Each node and the nodes it imports.

    Returns
    -------
    list of list of str
        Every group of two or more nodes, each sorted; a node that imports itself alone is
        not a cycle (a module cannot).
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups


def folder_of(module: str, depth: int) -> str:
    """The folder (subpackage) a module belongs to, ``depth`` names deep (the package is 1)."""
    return ".".join(module.split(".")[:depth])


def import_graphs(package: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Direct imports between the package's files, and between its top-level folders."""
    graph = grimp.build_graph(package)
    files = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    folders: dict[str, set[str]] = {}
    for module, imported in files.items():
        source = folder_of(module, 2)
        folders.setdefault(source, set())
        folders[source].update(t for t in (folder_of(i, 2) for i in imported) if t != source)
    return files, folders


def report(kind: str, groups: Iterable[list[str]]) -> int:
    """Print each cycle of one kind; return how many there are."""
    groups = list(groups)
    for group in groups:
        print(f"cycle between {kind}: {' <-> '.join(group)}")
    return len(groups)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python scripts/import_cycles.py [PACKAGE]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", default="mhhs_workbench")
    args = parser.parse_args(argv)
    files, folders = import_graphs(args.package)
    found = report("files", strongly_connected(files)) + report("folders", strongly_connected(folders))
    print(f"{found} import cycles between {len(files)} files and {len(folders)} folders of {args.package}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
