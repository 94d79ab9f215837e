"""The validation package's public surface, pinned."""

from __future__ import annotations

import server.validation


def test_exported_members() -> None:
    assert sorted(server.validation.__all__) == [
        "AUTOVERIFIED", "BIOLOGICAL", "DEFAULT_RULES", "STEP_SYSTEM", "TECHNICAL", "ValidationRules", "has_step",
        "is_autoverified", "load_rules", "register_validation_guards", "router"]
    for name in server.validation.__all__:
        assert getattr(server.validation, name) is not None
