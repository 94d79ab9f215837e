"""The ASTM model, parser and framing import no asyncio (only the transport does)."""

from __future__ import annotations

import facades.astm as astm


def test_model_parser_and_framing_do_not_import_asyncio() -> None:
    import ast
    import pathlib

    folder = pathlib.Path(astm.__file__).parent
    for module in ("model", "codec", "records", "framing", "errors"):
        tree = ast.parse((folder / f"{module}.py").read_text())
        nodes = list(ast.walk(tree))
        imported = {alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in nodes if isinstance(node, ast.ImportFrom)}
        assert "asyncio" not in imported, module
        assert not any(name.startswith(("facades.astm.link", "facades.astm.server", "facades.astm.client"))
                       for name in imported), module
