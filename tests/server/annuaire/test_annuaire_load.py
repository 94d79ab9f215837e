"""Annuaire Santé load (SGL.ANN.01–04), end to end: the server's scheduled load of the ANS sample, then
``sgl annuaire load`` of extractions written here in the ANS shape (zip with the MSSanté file, a URL on
loopback, damaged files), checked through the FHIR API and the printed report."""

from __future__ import annotations

import asyncio
import functools
import http.server
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facades.cda.writer.parties import Party, specialty
from tests.support.access import server_client as client
from tests.support.annuaire_files import KIT_PS, idnat, mss_line, ps_text, write_mss, write_ps, write_zip
from tests.support.sgl_cli import run_sgl as sgl
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db
IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
N = 120
"""People in the generated extraction (the real one has about 1.2 million; bench/annuaire.py loads millions)."""
TECH_COLUMN = 23  # "Identifiant technique de la structure", counted here independently of the loader


def counts(stdout: str) -> dict[str, list[int]]:
    """The ``type;added;changed;unchanged;inactivated`` rows of the printed report."""
    rows = {}
    for line in stdout.splitlines():
        parts = line.split(";")
        if len(parts) == 5 and parts[0] in ("Practitioner", "PractitionerRole", "Organization", "MSSanteAddress"):
            rows[parts[0]] = [int(p) for p in parts[1:]]
    return rows


def shape(people: range, **kwargs: Any) -> tuple[int, set[str]]:
    """(data lines, distinct structures) of a generated PS file, read off its text."""
    lines = list(ps_text(people, **kwargs))[1:]
    return len(lines), {line.split("|")[TECH_COLUMN] for line in lines if line.split("|")[TECH_COLUMN]}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("extractions")


@pytest.fixture(scope="module")
def web(files: Path) -> Iterator[str]:
    """A loopback HTTP server for the extraction files (a faithful stand-in for the ANS download URL)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(files))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def _status(server: SglProcess) -> dict[str, Any]:
    async with client(server, "administrateur") as admin:
        answer = await admin.get("Practitioner/$annuaire-status")
    assert answer.status_code == 200, answer.text
    return {p["name"]: p for p in answer.json()["parameter"]}


def _parts(param: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in param["part"]:
        value = next((v for k, v in part.items() if k.startswith("value")), part.get("part"))
        out.setdefault(part["name"], []).append(value)
    return out


@pytest.mark.req("SGL.ANN.01")
@pytest.mark.req("SGL.ANN.04")
async def test_the_scheduled_load_reads_the_ans_sample_SGL_ANN_01_04(directory_server: SglProcess) -> None:
    deadline = time.monotonic() + 120
    while True:
        status = await _status(directory_server)
        last = _parts(status["lastRun"]) if "lastRun" in status else {}
        if last.get("finished") or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert last.get("finished"), status
    assert status["frequencyHours"]["valueDecimal"] == 24 and status["scheduled"]["valueBoolean"] is True
    assert status["nextRun"]["valueDateTime"] > last["started"][0]
    assert last["complete"] == [True] and last["rejectedTotal"] == [0]
    by_type = {c[0][0]["valueCode"]: {p["name"]: p.get("valueInteger") for p in c[0][1:]}
               for c in ([x["part"]] for x in status["lastRun"]["part"] if x["name"] == "counts")}
    lines = KIT_PS.read_text(encoding="utf-8").splitlines()[1:]
    sites = {line.split("|")[TECH_COLUMN] for line in lines if line.split("|")[TECH_COLUMN]}
    assert by_type["Practitioner"]["added"] == len({line.split("|")[2] for line in lines}) == 22
    assert by_type["PractitionerRole"]["added"] == len(lines)
    assert by_type["Organization"]["added"] == len(sites) == 13
    # the RPPS-identified doctor of the sample, coded so that the CR-Bio writer finds its JDV_J01 code
    async with client(directory_server, "secretaire") as desk:
        found = (await desk.get("Practitioner", params={"identifier": f"{IDNPS}|810106476764"})).json()
        practitioner = found["entry"][0]["resource"]
        roles = (await desk.get("PractitionerRole", params={"practitioner": f"Practitioner/{practitioner['id']}"}))
    assert found["total"] == 1 and practitioner["active"] is True
    assert specialty(Party(practitioner))["code"] == "G15_10/SM20"
    assert roles.json()["total"] == 1


@pytest.mark.req("SGL.ANN.01")
def test_a_zip_with_the_mssante_file_loads_and_retires_what_is_gone_SGL_ANN_01(
        directory_server: SglProcess, files: Path) -> None:
    people = range(N)
    ps = write_ps(files / "PS_LibreAcces_Personne_activite_202612040100.txt", people)
    mss = write_mss(files / "Extraction_Correspondance_MSSante_202612040100.txt", range(0, N, 2))
    archive = write_zip(files / "PS_LibreAcces_202612040100.zip", {ps.name: ps, mss.name: mss})
    done = sgl("annuaire", "load", str(archive), "--data-dir", str(directory_server.data_dir))
    assert done.returncode == 0, done.stderr[-2000:]
    report = counts(done.stdout)
    lines, sites = shape(people)
    assert report["MSSanteAddress"] == [N // 2, 0, 0, 0]
    assert report["Practitioner"] == [N, 0, 0, 22], done.stdout  # the sample's 22 are not in this file
    assert report["PractitionerRole"] == [lines, 0, 0, 22]
    assert report["Organization"] == [len(sites), 0, 0, 13]
    assert "rejected;0" in done.stdout and "inactivation;done" in done.stdout


@pytest.mark.req("SGL.ANN.01")
async def test_a_reload_reports_exactly_the_changes_and_the_bad_lines_SGL_ANN_01(
        directory_server: SglProcess, files: Path, web: str) -> None:
    people = range(N + 1)  # N is new; 10 and 20 leave; 5, 7, 9 change name; two bad lines
    kept = [i for i in people if i not in (10, 20)]
    short, bad_id = "8|1234|81234|M|", "|".join(["8", "1", "XYZ", *[""] * 49]) + "|"
    kwargs: dict[str, Any] = {"renamed": frozenset({5, 7, 9}), "broken": {50: short, 60: bad_id}}
    path = files / "PS_LibreAcces_Personne_activite_202612050100.txt"
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for line in ps_text(kept, **kwargs):  # type: ignore[arg-type]
            out.write(line + "\n")
    text = path.read_text(encoding="utf-8").splitlines()
    bad_lines = [n for n, line in enumerate(text, start=1) if line in (short, bad_id)]
    done = sgl("annuaire", "load", f"{web}/{path.name}", "--data-dir", str(directory_server.data_dir))
    assert done.returncode == 0, done.stderr[-2000:]
    report = counts(done.stdout)
    assert report["Practitioner"] == [1, 3, len(kept) - 1 - 3, 2], done.stdout
    roles_of_new = len(list(ps_text(range(N, N + 1)))) - 1
    assert report["PractitionerRole"][0] == roles_of_new and report["PractitionerRole"][1] == 0
    roles_gone = len(list(ps_text(range(10, 11)))) + len(list(ps_text(range(20, 21)))) - 2
    assert report["PractitionerRole"][3] == roles_gone
    rejected = re.findall(r"^rejected;[^;]+;line (\d+);(.*)$", done.stdout, re.MULTILINE)
    assert [int(n) for n, _ in rejected] == bad_lines and len(bad_lines) == 2
    assert "fields instead of 52" in rejected[0][1] and "XYZ" in rejected[1][1]
    async with client(directory_server, "secretaire") as desk:
        gone = (await desk.get(f"Practitioner/as-{idnat(10)}")).json()
        renamed = (await desk.get(f"Practitioner/as-{idnat(6 + 1)}")).json()
        mailbox = (await desk.get(f"Practitioner/as-{idnat(8)}")).json()
    assert gone["active"] is False and renamed["name"][0]["family"].endswith("-NOUVEAU")
    assert renamed["meta"]["versionId"] == "2"
    assert [t["value"] for t in mailbox["telecom"]] == [mss_line(8).split("|")[1]] == ["zoé.leroy8@test.mssante.fr"]
    assert mailbox["telecom"][0]["extension"][0]["valueCoding"]["code"] == "MSSANTE"


@pytest.mark.req("SGL.ANN.01")
def test_a_damaged_file_inactivates_nothing_SGL_ANN_01(directory_server: SglProcess, files: Path, web: str) -> None:
    missing = sgl("annuaire", "load", f"{web}/PS_LibreAcces_absent.zip", "--data-dir", str(directory_server.data_dir))
    assert missing.returncode == 1 and "error;" in missing.stdout and "HTTP 404" in missing.stdout
    path = files / "PS_LibreAcces_Personne_activite_damaged.txt"
    lines = list(ps_text(range(3)))
    path.write_text("\n".join([lines[0], lines[1], "8|1|", "garbage", "|||"]) + "\n", encoding="utf-8")
    done = sgl("annuaire", "load", str(path), "--data-dir", str(directory_server.data_dir))
    assert done.returncode == 1, done.stdout
    assert "inactivation;skipped: 3 of 4 lines rejected" in done.stdout
    assert counts(done.stdout)["Practitioner"][3] == 0
    notes = files / "notes.txt"
    notes.write_text("nom;prenom\nDUPONT;Jean\n", encoding="utf-8")
    refused = sgl("annuaire", "load", str(notes), "--data-dir", str(directory_server.data_dir))
    assert refused.returncode == 1 and "neither a PS_LibreAcces_Personne_activite" in refused.stdout + refused.stderr


@pytest.mark.req("SGL.ANN.05")
async def test_mssante_address_by_rpps_or_by_name_and_place_SGL_ANN_05(directory_server: SglProcess) -> None:
    person = 12
    address, _, rpps, ident = mss_line(person).split("|")[1:5]
    fields = mss_line(person).split("|")
    family, postal, town = fields[9], fields[28], fields[27].split(" ", 1)[1].title()  # "13005 MARSEILLE"
    async with client(directory_server, "secretaire") as desk:
        by_rpps = (await desk.get("Practitioner/$mssante-lookup", params={"identifier": rpps})).json()
        by_id = (await desk.get("Practitioner/$mssante-lookup", params={"identifier": ident})).json()
        by_postal = (await desk.get("Practitioner/$mssante-lookup", params={"family": family.lower(), "place": postal}))
        by_town = (await desk.get("Practitioner/$mssante-lookup", params={"family": family, "place": town}))
        by_dept = (await desk.get("Practitioner/$mssante-lookup", params={"family": family, "place": postal[:2]}))
        elsewhere = (await desk.get("Practitioner/$mssante-lookup", params={"family": family, "place": "75019"}))
        name_only = await desk.get("Practitioner/$mssante-lookup", params={"family": family})
    for answer in (by_rpps, by_id, by_postal.json(), by_town.json(), by_dept.json()):
        match = _parts(answer["parameter"][1])
        assert answer["parameter"][0]["valueInteger"] == 1 and match["address"] == [address], answer
        assert match["practitioner"] == [{"reference": f"Practitioner/as-{ident}"}]
    assert elsewhere.json()["parameter"] == [{"name": "total", "valueInteger": 0}]
    assert name_only.status_code == 400 and "a name and a place" in name_only.text
    async with client(directory_server, "technicien") as bench:
        refused = await bench.get("Practitioner/$mssante-lookup", params={"identifier": rpps})
    assert refused.status_code == 403 and "$mssante-lookup" in refused.text
    cli = sgl("annuaire", "lookup", "--name", family, "--place", postal, "--data-dir", str(directory_server.data_dir))
    assert cli.returncode == 0 and cli.stdout.splitlines()[1].startswith(f"{address};PER;{ident};")


@pytest.mark.req("SGL.ANN.04")
async def test_the_load_report_is_for_administrators_SGL_ANN_04(directory_server: SglProcess) -> None:
    async with client(directory_server, "secretaire") as desk:
        refused = await desk.get("Practitioner/$annuaire-status")
    assert refused.status_code == 403 and "$annuaire-status" in refused.text
    status = sgl("annuaire", "status", "--data-dir", str(directory_server.data_dir))
    assert status.returncode == 0 and "complete;no" in status.stdout  # the last load was the wrong file


@pytest.mark.req("SGL.ANN.02")
@pytest.mark.req("SGL.ANN.03")
async def test_users_and_correspondents_follow_the_directory_SGL_ANN_02_03(
        directory_server: SglProcess, files: Path) -> None:
    data = str(directory_server.data_dir)
    user, absent_user = idnat(2), "8" + "99999999998"
    for name, rpps in (("dr-annuaire", user), ("dr-inconnu", absent_user)):
        made = sgl("users", "create", name, "--role", "biologiste", "--rpps", rpps[1:], "--name", "Ancien Nom",
                   "--password-stdin", "--data-dir", data, stdin="Annuaire-Sante-2026!\n")
        assert made.returncode == 0, made.stderr[-800:]
    async with client(directory_server, "secretaire") as desk:
        known = await desk.post("Practitioner", json={
            "resourceType": "Practitioner", "name": [{"family": "ANCIEN", "given": ["Nom"]}],
            "identifier": [{"system": IDNPS, "value": idnat(4)}],
            "telecom": [{"system": "phone", "value": "0472000000"}]})
        unknown = await desk.post("Practitioner", json={
            "resourceType": "Practitioner", "name": [{"family": "HORS", "given": ["Annuaire"]}],
            "identifier": [{"system": IDNPS, "value": "899999999997"}]})
        tagged = await desk.post("Practitioner", json={  # a tag of the lab's own: still the lab's Practitioner
            "resourceType": "Practitioner", "name": [{"family": "ETIQUETE"}],
            "meta": {"tag": [{"system": "urn:oid:1.2.250.1.999.1", "code": "prescripteur-externe"}]},
            "identifier": [{"system": IDNPS, "value": idnat(6)}]})
        assert known.status_code == unknown.status_code == tagged.status_code == 201, known.text
        done = sgl("annuaire", "load", str(files / "PS_LibreAcces_Personne_activite_202612050100.txt"),
                   "--data-dir", data)
        assert done.returncode == 0 and "correspondentsAbsent;" in done.stdout, done.stdout[-1500:]
        followed = (await desk.get(f"Practitioner/{known.json()['id']}")).json()
        flagged = (await desk.get(f"Practitioner/{unknown.json()['id']}")).json()
        directory = (await desk.get(f"Practitioner/as-{idnat(4)}")).json()
        tagged_now = (await desk.get(f"Practitioner/{tagged.json()['id']}")).json()
        tagged_directory = (await desk.get(f"Practitioner/as-{idnat(6)}")).json()
    assert tagged_now["name"] == tagged_directory["name"]  # found by the _tag index ranges (follow.py)
    assert followed["name"] == directory["name"] and followed["qualification"] == directory["qualification"]
    assert {"system": "phone", "value": "0472000000"} in followed["telecom"]  # the lab's own data stays
    assert [t for t in directory["telecom"] if t.get("extension")][0] in followed["telecom"]
    assert "absent-annuaire" not in {t["code"] for t in followed.get("meta", {}).get("tag", [])}
    assert "absent-annuaire" in {t["code"] for t in flagged["meta"]["tag"]}
    users = sgl("users", "list", "--data-dir", data).stdout.splitlines()
    listing = {line.split(";")[0]: line.split(";") for line in users}
    given, family = mss_line(2).split("|")[10], mss_line(2).split("|")[9]
    assert listing["dr-annuaire"][4:] == [f"Practitioner/as-{user}", f"{given} {family}"]
    assert listing["dr-inconnu"][4:] == ["", "Ancien Nom"]
