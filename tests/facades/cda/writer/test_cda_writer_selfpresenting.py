"""Self-presenting N3 (facades/cda/stylesheet/): a browser shows the report, the validator still accepts it."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from facades.cda import validate_cda
from facades.cda.stylesheet import self_presenting, stylesheet_path
from facades.cda.writer import SubcontractedPdf, write_n3
from resources.errors import InvalidInput
from tests.support import crbio_samples as s

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def browser_text(path: Path, profile: Path) -> str:
    """What headless Chromium shows for a local file (DOM after the XSLT ran), as plain text."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--allow-file-access-from-files", "--dump-dom", path.as_uri()]
    done = subprocess.run(command, capture_output=True, timeout=90, check=True)
    dom = done.stdout.decode("utf-8")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).replace("\u00a0", " ").split())


@pytest.fixture(scope="module")
def microbiology_n3() -> bytes:
    return write_n3(s.crbio_input([*s.microbiology(), *s.biochemistry()], ["leu", "iso", "tsh", "ft4", "glu"],
                                  specimens=[s.specimen("sp3", "UR", "Urine"), s.specimen()],
                                  conclusion="Infection urinaire à E. coli.",
                                  subcontracted_pdfs=[SubcontractedPdf(s.subcontractor(), s.TINY_PDF)]))


@pytest.mark.req("SGL.DOC.03")
@pytest.mark.req("SGL.INS.51")
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")
def test_browser_renders_every_structured_result_SGL_DOC_03_SGL_INS_51(microbiology_n3: bytes, tmp_path: Path) -> None:
    path = tmp_path / "crbio-auto-presentable.xml"
    path.write_bytes(self_presenting(microbiology_n3))
    text = browser_text(path, tmp_path / "profile")
    for expected in ("Nom de naissance : PAT-TROIS", "Premier prénom de naissance : DOMINIQUE", "Sexe : F",
                     "INS (NIR) : 279035121518989", "28/03/1979",
                     "Pascal CHARLES", "pascal.charles@medecin.mssante.fr", "Anne COEUR",
                     "Prélèvement : Urine", "prélevé le 04/01/2024 07:35", "reçu le 04/01/2024 09:22",
                     "1.95 m[IU]/L", "0.27 – 4.2", "7.67 pg/mL", "L (Anormalement bas)", "7.9 mmol/L", "H (",
                     "500 /mL", "Isolat : Escherichia coli", "100000 /mL", "≥0.512 ug/mL R (Résistant)",
                     "<0.128 ug/mL I", "<0.032 ug/mL S", "Contrôlé sur un second prélèvement.",
                     "Traitement immédiat recommandé.", "Résultats validés par DR Marcel CAMPARINI",
                     "ouvrir la copie PDF", "Infection urinaire à E. coli.",
                     "Laboratoire Spécialisé Cerba-Test", "Tél. 0134000000"):
        assert expected in text, f"{expected!r} not rendered"


@pytest.mark.req("SGL.DOC.03")
def test_self_presenting_file_still_conforms_as_n3_SGL_DOC_03(microbiology_n3: bytes) -> None:
    wrapped = self_presenting(microbiology_n3)
    root = etree.fromstring(wrapped)
    assert root.tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet" and root.get("version") == "1.0"
    assert b'<?xml-stylesheet type="text/xsl" href="#"?>' in wrapped
    report = validate_cda(wrapped, level="N3")
    assert report.extracted_from is not None
    assert report.errors == [], [f"{e.source}: {e.message} @ {e.where()}" for e in report.errors]


@pytest.mark.req("SGL.DOC.03")
def test_stylesheet_is_xslt_1_and_renders_a_plain_n3_SGL_DOC_03(microbiology_n3: bytes) -> None:
    xslt = etree.parse(str(stylesheet_path()))
    assert xslt.getroot().get("version") == "1.0"
    page = str(etree.XSLT(xslt)(etree.fromstring(microbiology_n3).getroottree()))
    assert "Escherichia coli" in page and "Compte rendu d'examens biologiques" in page


def test_self_presenting_refuses_what_is_not_a_clinical_document() -> None:
    with pytest.raises(InvalidInput) as caught:
        self_presenting(b"<html/>")
    assert caught.value.expression == ["html"]
    with pytest.raises(InvalidInput) as caught:
        self_presenting(b"<ClinicalDocument")
    assert caught.value.expression[0].startswith("line ")
