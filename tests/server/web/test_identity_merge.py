"""Duplicates, merges and the identity label in the browser (web/e2e/identity-merge.test.mjs): on the qualified
identity of tests/support/workbench.py, two provisional ones typed at the desk — same birth date, and the same
birth name born another day (a mistyped date) — the biologist merges the first; what the browser did is what the
store holds. The same server runs with autoverification on: an order with normal results is validated by the rules
when validated technically, and the biologist reviews it from the "Résultats autovalidés" view. One ``sgl serve``
for the module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from resources.ins import identity_status
from server.access import accounts
from server.database import open_database
from server.settings import Settings
from server.validation import is_autoverified
from tests.support.access import biologist_practitioner
from tests.support.sgl_server import SglProcess, start_sgl
from tests.support.workbench import PASSWORD, SERVER_ENV, WEB, Lab, browser_suite, provisional_patient, seed

pytestmark = pytest.mark.db
SCREENS = WEB / "e2e" / "screenshots"


@pytest.fixture(scope="module")
def merge_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    server = start_sgl(tmp_path_factory.mktemp("merge") / "var", env={**SERVER_ENV, "SGL_AUTOVERIFICATION": "true"},
                       partners=None)
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def merge_lab(merge_server: SglProcess) -> dict[str, str]:
    ids = await seed(merge_server, identities_only=True)
    database = await open_database(Settings(data_dir=merge_server.data_dir))
    lab = Lab(merge_server, database.db)
    try:
        desk, bench = await lab.client("secretaire"), await lab.client("biologiste-responsable")
        signer = f"Practitioner/{await lab.created(bench, biologist_practitioner())}"
        await accounts.create_user(database.db, "bruno", PASSWORD, role="biologiste", name="Dr Bruno REVUE",
                                   practitioner=signer)  # an RPPS-identified biologist: a review is a validation
        normal = await lab.order(bench, ids["qualified"], {"NA": 140, "K": 4.2}, "2026-11-23T08:00:00+01:00")
        ids["autoverified"] = await lab.validate_technically(bench, normal)
        for key, born in (("duplicate", "1982-07-14"), ("mistyped", "1982-04-17")):
            ids[key] = await lab.created(desk, {**provisional_patient(), "gender": "female", "birthDate": born,
                                                 "name": [{"use": "official", "family": "DE LA FONTAINE",
                                                           "given": ["MARIE-HELENE"]}]})
    finally:
        for client in lab.clients:
            await client.aclose()
        await database.close()
    return ids


async def test_duplicate_merged_identity_label_and_autoverified_review_in_the_browser_SGL_INS_53(
        merge_server: SglProcess, merge_lab: dict[str, str]) -> None:
    browser_suite("identity-merge", merge_server, merge_lab, SCREENS)
    database = await open_database(Settings(data_dir=merge_server.data_dir))
    try:
        patients = database.db["Patient"]
        merged = (await patients.find_one({"_id": merge_lab["duplicate"]}))["r"]
        kept = (await patients.find_one({"_id": merge_lab["qualified"]}))["r"]
        untouched = (await patients.find_one({"_id": merge_lab["mistyped"]}))["r"]
        reviewed = (await database.db["DiagnosticReport"].find_one({"_id": merge_lab["autoverified"]}))["r"]
        audits = await database.db["AuditEvent"].count_documents(
            {"r.entity.description": f"Patient/$merge Patient/{merge_lab['duplicate']} -> "
                                     f"Patient/{merge_lab['qualified']}"})
    finally:
        await database.close()
    assert merged["active"] is False
    assert merged["link"] == [{"other": {"reference": f"Patient/{merge_lab['qualified']}"}, "type": "replaced-by"}]
    assert kept["link"] == [{"other": {"reference": f"Patient/{merge_lab['duplicate']}"}, "type": "replaces"}]
    assert identity_status(kept) == "QUAL"
    assert "link" not in untouched and untouched.get("active") is not False
    assert audits == 1
    assert reviewed["status"] == "final" and not is_autoverified(reviewed)
    assert reviewed["resultsInterpreter"][0]["reference"].startswith("Practitioner/")
    assert (SCREENS / "identite-fusion.png").stat().st_size > 10_000
