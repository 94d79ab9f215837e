"""The workbench's Administration screen in the browser (issue 15 item 9, ``web/e2e/admin.test.mjs``): one real
``sgl serve`` for the module with one EHR partner registered, an administrator and a secretary; afterwards the
database holds what the page did (role, status, the password set from the page; the analyzer registered and the
EHR removed, the analyzer's identifier types and options changed), in the same stores ``sgl users`` and
``sgl partners`` read."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from server.access import accounts
from server.access.collections import USERS
from server.access.passwords import verify_secret
from server.database import open_database
from server.documents.stored_profile import stored_texts
from server.partners.registry import PartnerRegistry
from server.settings import Settings
from tests.support.sgl_server import SglProcess, start_sgl
from tests.support.workbench import PASSWORD, SERVER_ENV, WEB, browser_suite

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    root = tmp_path_factory.mktemp("web-admin")
    partners = root / "partners.json"
    partners.write_text(json.dumps([{"name": "DPI-CHU", "role": "dpi", "hl7_application": "DPI-CHU",
                                     "addresses": ["127.0.0.0/8"], "send_to": "127.0.0.1:9"}]))
    server = start_sgl(root / "var", env=SERVER_ENV, partners=partners)
    yield server
    server.stop()


async def test_administration_screen_in_the_browser(admin_server: SglProcess) -> None:
    database = await open_database(Settings(data_dir=admin_server.data_dir))
    try:
        await accounts.create_user(database.db, "root", PASSWORD, role="administrateur", name="Régine RACINE")
        await accounts.create_user(database.db, "sophie", PASSWORD, role="secretaire", name="Sophie ACCUEIL")
        browser_suite("admin", admin_server, {}, WEB / "e2e" / "screenshots")
        made = await accounts.find_user(database.db, "l.martin")
        assert made is not None and (made.role, made.status, made.name) == ("biologiste", "disabled", "Louis MARTIN")
        stored = await database.db[USERS].find_one({"_id": "l.martin"})
        assert stored and await verify_secret("Nouvelle-cle-de-paillasse", stored["password"])
        assert (await accounts.find_user(database.db, "root")) == accounts.User(
            "root", "administrateur", "active", "Régine RACINE")
        registered = await PartnerRegistry(database.db).all()
        assert [(p.name, p.role, p.hl7_application, p.addresses) for p in registered] == [
            ("COBAS-1", "automate", "COBAS", ("10.0.5.0/24", "127.0.0.1"))]
        [edited] = registered  # the mappings and options saved from the page (the stale page's change refused)
        assert (edited.identifier_types, edited.options) == ({"MR": "PI", "NH": "NIIP"}, {"test_code": "alternate"})
        [(_, version)] = await PartnerRegistry(database.db).versions()
        assert version == 3  # registered, then two accepted changes
        saved = await stored_texts(database.db)  # the lab profile saved from the page, with who saved it
        assert saved and (saved["rgpd"], saved["cofrac_number"]) == (
            "Données traitées par le laboratoire ; DPO : dpo@labo-web.fr.", "8-4321")
        assert saved["by"]["identifier"]["value"] == "user:root"
    finally:
        await database.close()
