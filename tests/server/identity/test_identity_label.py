"""``Patient/{id}/$identity-label``: the INS Datamatrix label of a qualified identity (SGL.INS.53), scanned
back from the printed page; refused for any other status and to roles that may not see the INS."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from facades.pdf import decode_datamatrix_png, parse_ins_datamatrix
from resources.patient_traits import birth_given_names_extension
from tests.support.identity_samples import MATRICULE, provisional, with_status

pytestmark = pytest.mark.db


def page_png(pdf: bytes, tmp: Path) -> bytes:
    """The label as a 300 dpi label printer would print it."""
    (tmp / "label.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-f", "1", "-l", "1", "-png", str(tmp / "label.pdf"), str(tmp / "page")],
                   check=True, timeout=60)
    return next(tmp.glob("page*.png")).read_bytes()


async def created(client: httpx.AsyncClient, patient: dict[str, Any]) -> str:
    r = await client.post("Patient", json={k: v for k, v in patient.items() if k != "id"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.mark.req("SGL.INS.53")
async def test_qualified_identity_label_carries_a_readable_ins_datamatrix_SGL_INS_53(
        desk: httpx.AsyncClient, feed: httpx.AsyncClient, tmp_path: Path) -> None:
    patient = with_status(provisional(family="ÉTIQUETTE"), "QUAL")
    patient["extension"] = [*patient["extension"], birth_given_names_extension(["DOMINIQUE", "MARIE"])]
    pid = await created(feed, patient)
    r = await desk.get(f"Patient/{pid}/$identity-label")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    coded = parse_ins_datamatrix(decode_datamatrix_png(page_png(r.content, tmp_path)))
    assert (coded["matricule"], coded["nom"], coded["sexe"], coded["date_naissance"]) == (
        MATRICULE, "ETIQUETTE", "F", "1997-02-26")
    assert coded["lieu_naissance"] == "2A020"
    text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=r.content, capture_output=True, check=True,
                                   timeout=60).stdout.decode().split())
    for trait in ("ÉTIQUETTE", "DOMINIQUE MARIE", "26/02/1997", "Féminin", f"{MATRICULE} (INS-NIR)"):
        assert trait in text
    events = (await desk.get("AuditEvent", params={"entity": f"Patient/{pid}"})).json()["entry"]
    assert any("$identity-label" in str(e["resource"]["entity"]) for e in events)


@pytest.mark.req("SGL.INS.53")
async def test_label_of_an_identity_not_qualified_is_refused_SGL_INS_53(desk: httpx.AsyncClient) -> None:
    pid = await created(desk, provisional(family="ETIQPROV"))
    r = await desk.get(f"Patient/{pid}/$identity-label")
    assert r.status_code == 422 and "SGL.INS.53" in r.text and "PROV" in r.text
    assert r.json()["resourceType"] == "OperationOutcome"
    assert (await desk.get("Patient/nobody-here/$identity-label")).status_code == 404


@pytest.mark.req("SGL.INS.05")
async def test_label_is_refused_to_a_role_that_may_not_see_the_ins_SGL_INS_05(
        tech: httpx.AsyncClient, feed: httpx.AsyncClient) -> None:
    pid = await created(feed, with_status(provisional(family="ETIQTECH"), "QUAL"))
    r = await tech.get(f"Patient/{pid}/$identity-label")
    assert r.status_code == 403 and "$identity-label" in r.text
