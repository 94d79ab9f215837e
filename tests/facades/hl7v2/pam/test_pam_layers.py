"""facades.hl7v2.pam stays pure: no asyncio, no server, no other facade."""

import ast
from pathlib import Path

import facades.hl7v2.pam as pam


def test_no_asyncio_no_server_no_other_facade() -> None:
    for path in Path(pam.__file__).parent.glob("*.py"):
        nodes = list(ast.walk(ast.parse(path.read_text())))
        modules = {a.name for n in nodes if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module or "" for n in nodes if isinstance(n, ast.ImportFrom)}
        for module in modules:
            assert module != "asyncio" and not module.startswith(("server", "terminology")), (path.name, module)
            assert not module.startswith("facades.") or module.startswith("facades.hl7v2"), (path.name, module)
