"""``sgl partners`` from the command line, without a server running on the data dir (issue 11 item 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.access import permissions
from server.cli import main
from server.database import Database
from tests.support.partner_messages import PartnerServer, sgl_partners

pytestmark = pytest.mark.db


def test_add_list_remove_without_a_server(tmp_path: Path) -> None:
    data = tmp_path / "var"
    added = sgl_partners(data, "add", "ANALYSEUR-1", "--role", "automate", "--hl7-application", "CX-A1",
                         "--astm-sender", "CX-A1", "--address", "10.1.2.0/24", "--send-to", "10.1.2.3:5000")
    assert added.returncode == 0, added.stderr
    gam = sgl_partners(data, "add", "GAM", "--role", "source-identite", "--hl7-application", "GAM",
                       "--hl7-facility", "CHU-X", "--identifier-type", "MR=PI")
    assert gam.returncode == 0, gam.stderr
    dpi = sgl_partners(data, "add", "DXCARE", "--role", "dpi", "--hl7-application", "DXCARE", "--send-to",
                       "10.0.0.20:6661", "--identity-updates")
    assert dpi.returncode == 0, dpi.stderr
    listed = sgl_partners(data, "list")
    assert listed.returncode == 0 and listed.stdout.splitlines() == [
        "name;role;hl7_application;hl7_facility;astm_sender;addresses;send_to;identifier_types;identity_updates;"
        "options",
        "ANALYSEUR-1;automate;CX-A1;;CX-A1;10.1.2.0/24;10.1.2.3:5000;;non;",
        "DXCARE;dpi;DXCARE;;;;10.0.0.20:6661;;oui;",
        "GAM;source-identite;GAM;CHU-X;;;;MR=PI;non;",
    ]
    assert sgl_partners(data, "remove", "ANALYSEUR-1").returncode == 0
    assert [line.split(";")[0] for line in sgl_partners(data, "list").stdout.splitlines()[1:]] == ["DXCARE", "GAM"]
    gone = sgl_partners(data, "remove", "ANALYSEUR-1")
    assert gone.returncode == 1 and "no partner named 'ANALYSEUR-1'" in gone.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("--role", "automate"), "needs --hl7-application or --astm-sender"),
    (("--role", "automate", "--hl7-application", "A", "--address", "10.0.0.300/8"), "not an IP address or CIDR"),
    (("--role", "dpi", "--astm-sender", "X"), "sends no ASTM"),
    (("--role", "dpi", "--hl7-application", "A", "--send-to", "nohostport"), "not HOST:PORT"),
    (("--role", "dpi", "--hl7-application", "A", "--identifier-type", "MR=XX"), "the target must be one of"),
    (("--role", "dpi", "--hl7-application", "A", "--identifier-type", "MR"), "is not KEY=VALUE"),
    (("--role", "dpi", "--hl7-application", "A", "--identity-updates"), "dpi partner with --send-to"),
    (("--role", "automate", "--hl7-application", "A", "--send-to", "h:1", "--identity-updates"),
     "dpi partner with --send-to"),
    (("--role", "automate", "--hl7-application", "A", "--option", "charset=utf-8"), "unknown partner option charset"),
    (("--role", "automate", "--hl7-application", "A", "--option", "test_code=obx3.2"),
     "one of auto, primary, alternate"),
])
def test_bad_partner_definitions_are_refused_with_the_reason(partner_server: PartnerServer, args: tuple[str, ...],
                                                             message: str) -> None:
    data = partner_server.sgl.data_dir
    done = sgl_partners(data, "add", "BAD-DEFINITION", *args)
    assert done.returncode != 0 and message in done.stderr, done.stderr
    assert "BAD-DEFINITION" not in sgl_partners(data, "list").stdout


def test_unknown_role_is_refused_by_the_option(tmp_path: Path) -> None:
    done = sgl_partners(tmp_path / "var", "add", "P", "--role", "hacker", "--hl7-application", "A")
    assert done.returncode == 2 and "'hacker' is not one of" in done.stderr


def test_two_partners_cannot_claim_the_same_sender(partner_server: PartnerServer) -> None:
    """With the server running: the CLI shares its embedded database."""
    data = partner_server.sgl.data_dir
    first = sgl_partners(data, "add", "DUP-A", "--role", "dpi", "--hl7-application", "DUP-EHR", "--hl7-facility", "F")
    assert first.returncode == 0, first.stderr
    again = sgl_partners(data, "add", "DUP-B", "--role", "automate", "--hl7-application", "DUP-EHR",
                         "--hl7-facility", "F")
    assert again.returncode == 1 and "already registered" in again.stderr
    other = sgl_partners(data, "add", "DUP-C", "--role", "dpi", "--hl7-application", "DUP-EHR", "--hl7-facility", "G")
    assert other.returncode == 0
    same_name = sgl_partners(data, "add", "DUP-A", "--role", "dpi", "--hl7-application", "DUP-OTHER")
    assert same_name.returncode == 1
    names = [line.split(";")[0] for line in sgl_partners(data, "list").stdout.splitlines()[1:]]
    assert "DUP-A" in names and "DUP-C" in names and "DUP-B" not in names


def test_import_checks_every_entry_before_writing(partner_server: PartnerServer, tmp_path: Path) -> None:
    data, file = partner_server.sgl.data_dir, tmp_path / "partners.json"
    file.write_text(json.dumps([{"name": "IMPORT-OK", "role": "dpi", "hl7_application": "IMPORT-EHR"},
                                {"name": "IMPORT-BAD", "role": "dpi"}]), encoding="utf-8")
    done = sgl_partners(data, "import", str(file))
    assert done.returncode == 1 and "needs --hl7-application" in done.stderr
    assert "IMPORT-" not in sgl_partners(data, "list").stdout


async def test_set_mappings_replaces_them_checked_versioned_and_traced(partner_server: PartnerServer,
                                                                       partner_db: Database) -> None:
    """``sgl partners set-mappings``: the command-line door of POST /fhir/Endpoint/{name}/$set-mappings."""
    data = partner_server.sgl.data_dir
    added = sgl_partners(data, "add", "MAP-CLI", "--role", "source-identite", "--hl7-application", "MAP-GAM",
                         "--identifier-type", "PN=PI")
    assert added.returncode == 0, added.stderr
    changed = sgl_partners(data, "set-mappings", "MAP-CLI", "--identifier-type", "MR=PI", "--identifier-type",
                           "NH=NIIP", "--option", "test_code=alternate", "--if-version", "1")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == ("partner MAP-CLI version 2: identifier types MR=PI,NH=NIIP; "
                                      "options test_code=alternate")
    assert _listed(data, "MAP-CLI").endswith(";MR=PI,NH=NIIP;non;test_code=alternate")

    for args, words in [(("--option", "test_code=premier"), "test_code='premier'"),
                        (("--identifier-type", "MR=XX"), "the target must be one of"),
                        (("--identifier-type", "MR"), "is not KEY=VALUE"),
                        (("--if-version", "1"), "is at version 2, not 1")]:
        refused = sgl_partners(data, "set-mappings", "MAP-CLI", *args)
        assert refused.returncode != 0 and words in refused.stderr, (args, refused.stderr)
    assert _listed(data, "MAP-CLI").endswith(";MR=PI,NH=NIIP;non;test_code=alternate")  # nothing written
    unknown = sgl_partners(data, "set-mappings", "PERSONNE")
    assert unknown.returncode == 1 and "no partner named 'PERSONNE'" in unknown.stderr
    cleared = sgl_partners(data, "set-mappings", "MAP-CLI")
    assert cleared.returncode == 0 and "version 3: identifier types -; options -" in cleared.stdout

    trail = [e["r"] async for e in partner_db.db["AuditEvent"].find(
        {"r.subtype.code": "partner-update", "r.entity.what.identifier.value": "MAP-CLI"})]
    assert len(trail) == 2  # refused changes leave no trace
    assert all(e["agent"][0]["who"]["identifier"]["value"].startswith("operator:") for e in trail), trail
    assert any("identifier types PN=PI -> MR=PI, NH=NIIP; options (aucune) -> test_code=alternate"
               in e["outcomeDesc"] for e in trail), trail


def _listed(data: Path, name: str) -> str:
    return next(line for line in sgl_partners(data, "list").stdout.splitlines() if line.startswith(f"{name};"))


def test_the_command_line_doors_are_granted_by_the_permission_table(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    """The CLI has no callers to refuse (whoever opens the data dir is its operator, administrateur), but its
    doors are the table's: without the Endpoint row, the operator is refused before the database is opened."""
    rules = {key: rule for key, rule in permissions.RULES.items() if key[0] != "Endpoint"}
    monkeypatch.setattr(permissions, "RULES", rules)
    for args in (["set-mappings", "P", "--identifier-type", "MR=PI"], ["remove", "P"],
                 ["add", "P", "--role", "dpi", "--hl7-application", "A"]):
        done = CliRunner().invoke(main, ["partners", *args, "--data-dir", str(tmp_path / "var")])
        assert done.exit_code == 1 and "[SGL.INS.05] the role 'administrateur' lacks the permission" in done.output
    assert not (tmp_path / "var").exists()
