"""Declared dependencies that no project file imports (issue 12: "no declared dependency that nothing imports").

Reads ``[project] dependencies`` and the ``test`` extra of ``pyproject.toml``, maps each distribution to the
modules it installs (``importlib.metadata``), and looks for an import of one of them in the code
(server, facades, resources, terminology), the tests, bench/ and scripts/. Prints each dependency with
where it is imported, or ``NOT IMPORTED``; a dependency can rightly be used another way (a program the code
runs, a pytest plugin, a tool the checks run): the list says which, the reader judges.

    .venv/bin/python scripts/unused_dependencies.py
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections import defaultdict
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHERE = ("server", "facades", "resources", "terminology", "tests", "bench", "scripts")


def _imported() -> dict[str, set[str]]:
    """top-level module -> the project directories importing it."""
    found: dict[str, set[str]] = defaultdict(set)
    for top in WHERE:
        for path in (ROOT / top).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found[name.split(".")[0]].add(top)
    return found


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project.get("optional-dependencies", {}).get("test", [])]
    modules_of: dict[str, set[str]] = defaultdict(set)
    for module, dists in packages_distributions().items():
        for dist in dists:
            modules_of[re.sub(r"[-_.]+", "-", dist).lower()].add(module)
    imported = _imported()
    missing = 0
    for requirement in declared:
        name = re.sub(r"[-_.]+", "-", re.split(r"[\[=<>!~ ;]", requirement, maxsplit=1)[0]).lower()
        users = sorted({top for module in modules_of.get(name, ()) for top in imported.get(module, ())})
        missing += not users
        sys.stdout.write(f"{name:24} {', '.join(users) if users else 'NOT IMPORTED'}\n")
    sys.stdout.write(f"{missing} of {len(declared)} declared dependencies not imported by any project file\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
