"""Every import circle between the project's modules (strongly connected components of the import graph).

Counts lazy imports inside functions and ``TYPE_CHECKING`` imports too (``--runtime`` leaves the latter
out). ``lint-imports`` enforces "no circle" per package; this prints the circles themselves, to compare
two trees: ``PYTHONPATH=<tree> .venv/bin/python scripts/import_circles.py``.
"""

from __future__ import annotations

import argparse
import sys

import grimp

PACKAGES = ("server", "facades", "resources", "terminology")


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the graph has a few hundred modules); components of one module dropped."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.find_modules_directly_imported_by(step)))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found, key=len, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runtime", action="store_true", help="leave out imports under TYPE_CHECKING")
    args = parser.parse_args()
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=args.runtime)
    found = circles(graph)
    sys.stdout.write(f"{len(found)} import circle(s) among {len(graph.modules)} modules\n")
    for component in found:
        sys.stdout.write(f"- {len(component)} modules: {', '.join(component)}\n")


if __name__ == "__main__":
    main()
