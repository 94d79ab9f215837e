"""The public surface of facades.hl7v2 is pinned: other packages import only these names."""

import facades.hl7v2 as hl7v2

EXPECTED = {
    "DEFAULT_ENCODING", "DEFAULT_MAX_SIZE", "PAM_FR_RELIABILITY", "AckCode", "AckDecision", "AckError",
    "AssigningAuthority", "EncodingChars", "ErrorLocation", "EscapeError", "Field", "FrameTooLarge",
    "Handler", "Hl7Message", "Hl7ParseError", "InboundMessage", "MllpClient", "MllpDecoder", "MllpServer",
    "MllpUnavailable", "NackReceived", "Segment", "build_ack", "build_ack_for_unreadable", "build_pid",
    "check_header", "encode_frame", "escape", "hl7_datetime_from_fhir", "hl7_timestamp", "new_control_id",
    "parse", "send", "start_mllp_server", "unescape",
}


def test_public_surface_is_exactly_the_declared_names() -> None:
    assert set(hl7v2.__all__) == EXPECTED
    assert all(hasattr(hl7v2, name) for name in hl7v2.__all__)


def test_model_and_parser_do_not_import_asyncio() -> None:
    import ast
    from pathlib import Path

    root = Path(hl7v2.__file__).parent
    for name in ("message", "parser", "escape", "errors", "mllp", "ack", "pid", "timestamps"):
        tree = ast.parse((root / f"{name}.py").read_text())
        nodes = list(ast.walk(tree))
        imported = {alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "asyncio" not in imported, name
        assert not any(m.startswith(("server", "facades.astm", "facades.cda")) for m in imported), name
