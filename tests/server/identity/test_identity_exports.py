"""The public surface of server.identity, pinned."""

from __future__ import annotations

import server.identity


def test_public_names_are_pinned_and_importable() -> None:
    assert sorted(server.identity.__all__) == [
        "IdentityGuard", "IdentityPolicy", "Justificatif", "Profile", "Right", "check_ins_identifiers",
        "profile", "register_identity_guard",
    ]
    for name in server.identity.__all__:
        assert getattr(server.identity, name) is not None
