"""``GET /fhir/Specimen/{id}/$label``: a PDF whose Code 128 barcode scans back to the accession number."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.support.orders_lab import People, order_parameters, written


def scan(pdf: bytes, workdir: Path) -> list[str]:
    """Rasterise at 300 dpi (a label printer's resolution) and decode with zbar."""
    (workdir / "label.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-png", "-singlefile", str(workdir / "label.pdf"),
                    str(workdir / "label")], check=True, timeout=60)
    out = subprocess.run(["zbarimg", "-q", "--raw", str(workdir / "label.png")], capture_output=True, text=True,
                         timeout=60)
    return out.stdout.split()


async def test_specimen_label_barcode_decodes_to_the_accession_number(fhir: httpx.AsyncClient,
                                                                      order_people: People, tmp_path: Path) -> None:
    resp = await fhir.post("ServiceRequest/$order", json=order_parameters(order_people, ["URE", "CREAT"]))
    [specimen] = written(resp.json(), "Specimen")
    label = await fhir.get(f"Specimen/{specimen['id']}/$label")
    assert label.status_code == 200
    assert label.headers["content-type"] == "application/pdf"
    assert scan(label.content, tmp_path) == [specimen["accessionIdentifier"]["value"]]


async def test_label_of_an_unknown_specimen_is_404(fhir: httpx.AsyncClient) -> None:
    resp = await fhir.get("Specimen/no-such-specimen/$label")
    assert resp.status_code == 404
    assert resp.json()["resourceType"] == "OperationOutcome"
