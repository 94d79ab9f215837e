"""Each package's public surface is what its ``__init__.py`` declares in ``__all__`` (style habit 3).

One check per package, derived from the code rather than a copied list of names (a copied list only
restates ``__all__`` and changes with it): every declared name resolves, every name the package
defines or takes from its own modules is declared, and other packages import from the package root
only declared names. Adding a name to a surface is then one edit, in ``__init__.py``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

ROOTS = ("server", "facades", "resources", "terminology")
REPO = Path(__file__).resolve().parents[1]


def _packages() -> list[str]:
    found = []
    for root in ROOTS:
        found.append(root)
        found += [info.name for info in pkgutil.walk_packages(importlib.import_module(root).__path__, root + ".")
                  if info.ispkg]
    return sorted(found)


DECLARED = [name for name in _packages() if hasattr(importlib.import_module(name), "__all__")]


def _own_names(package: str) -> set[str]:
    """Public names ``__init__.py`` defines itself or imports from the package's own modules."""
    tree = ast.parse(Path(importlib.import_module(package).__file__ or "").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith(package + ".")):
            names |= {alias.asname or alias.name for alias in node.names}
    module = importlib.import_module(package)
    return {n for n in names if not n.startswith("_") and not isinstance(getattr(module, n, None), ModuleType)}


def _imports_from_outside(package: str) -> set[tuple[str, str]]:
    """(importing module, name) for every ``from package import name`` written outside the package."""
    found: set[tuple[str, str]] = set()
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            importer = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            if importer == package or importer.startswith(package + "."):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == package:
                    found |= {(importer, alias.name) for alias in node.names}
    return found


@pytest.mark.parametrize("package", DECLARED)
def test_public_surface_is_declared_resolves_and_is_all_others_use(package: str) -> None:
    module = importlib.import_module(package)
    declared: list[str] = list(module.__all__)
    assert len(declared) == len(set(declared)), f"{package}.__all__ repeats a name"
    assert [n for n in declared if not hasattr(module, n)] == [], f"{package}.__all__ names what it lacks"
    assert sorted(_own_names(package) - set(declared)) == [], f"{package} offers names it does not declare"
    undeclared = sorted((who, name) for who, name in _imports_from_outside(package)
                        if name not in declared and importlib.util.find_spec(f"{package}.{name}") is None)
    assert undeclared == [], f"imported from {package} without being in its __all__"


def test_every_package_with_a_surface_is_checked() -> None:
    """The walk finds the packages (a broken discovery would make the check above vacuous)."""
    assert {"facades.hl7v2", "facades.astm", "server.validation", "terminology"} <= set(DECLARED)
