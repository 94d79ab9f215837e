"""facades.hl7v2 keeps its layers: the model and the parser import no asyncio, and the facade imports
neither the server nor another facade."""

import ast
from pathlib import Path

import facades.hl7v2 as hl7v2


def _imports(path: Path) -> set[str]:
    nodes = list(ast.walk(ast.parse(path.read_text())))
    imported = {alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names}
    return imported | {node.module or "" for node in nodes if isinstance(node, ast.ImportFrom)}


def test_model_parser_and_framing_do_not_import_asyncio() -> None:
    root = Path(hl7v2.__file__).parent
    for name in ("message", "parser", "escape", "errors", "mllp", "ack", "pid", "timestamps"):
        assert "asyncio" not in _imports(root / f"{name}.py"), name


def test_the_facade_imports_neither_the_server_nor_another_facade() -> None:
    for path in Path(hl7v2.__file__).parent.glob("*.py"):
        for module in _imports(path):
            assert not module.startswith(("server", "terminology")), (path.name, module)
            assert not module.startswith("facades.") or module.startswith("facades.hl7v2"), (path.name, module)
