"""The permission table is one readable structure, shown as is in the README (SGL.INS.05)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.access.permissions import TABLE, allows, markdown_table
from server.access.roles import PARTNER_ROLES, ROLES, STAFF_ROLES

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.mark.req("SGL.INS.05")
def test_the_readme_shows_the_table_the_server_enforces_SGL_INS_05() -> None:
    text = README.read_text(encoding="utf-8")
    shown = text.split("<!-- permission-table -->\n", 1)[1].split("\n<!-- /permission-table -->", 1)[0]
    assert shown == markdown_table()


def test_roles_and_the_defaults_the_issue_names() -> None:
    assert set(STAFF_ROLES) == {"secretaire", "preleveur", "technicien", "biologiste", "biologiste-responsable",
                                "administrateur"}
    assert set(PARTNER_ROLES) == {"automate", "source-identite", "dpi", "sous-traitant"}
    assert {r for r in ROLES if not allows(r, "Patient", "ins")} == {"technicien", "automate", "administrateur"}
    assert all(row.roles == () or set(row.roles) <= set(ROLES) for row in TABLE)
    assert not any(allows(r, t, i) for r in ROLES for t in ("AuditEvent", "Provenance")
                   for i in ("create", "update", "delete"))
    assert not allows("nobody", "Patient", "read") and not allows("", "*", "batch")
