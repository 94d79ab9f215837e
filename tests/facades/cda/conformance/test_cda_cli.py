"""The ``sgl validate cda FILE`` body (facades/cda/conformance/cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from facades.cda import cli_validate
from facades.cda.conformance.kit import default_kit

EXAMPLES = default_kit().root / "ExemplesCDA"


@pytest.mark.req("SGL.DOC.01")
def test_conformant_document_exits_zero_and_says_so_SGL_DOC_01(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_validate(EXAMPLES / "BIO-CR-BIO_2024.01_TSH_1.xml") == 0
    out = capsys.readouterr().out
    assert out.startswith("CDA N3: CONFORME — 0 error(s)")
    assert "CI-SIS_BIO-CR-BIO_2024.01.sch" in out


def test_non_conformant_document_exits_one_and_lists_the_failed_assert(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_validate(EXAMPLES / "BIO-CR-BIO_2021.01_Microbiologie_V1.xml") == 1
    out = capsys.readouterr().out
    assert "NON CONFORME — 1 error(s)" in out
    assert "== CI-SIS_BIO-CR-BIO_2024.01.sch" in out
    assert "ERROR   /cda:ClinicalDocument[1]/cda:component[1]/cda:structuredBody[1], line " in out
    assert "test: count(cda:component/cda:section[cda:templateId/@root='1.2.250.1.213.1.1.2.243'])> 0" in out


def test_not_a_cda_exits_two_with_the_reason_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4\n")
    assert cli_validate(path) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "not well-formed XML" in captured.err and "line 1" in captured.err


def test_unknown_level_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_validate(EXAMPLES / "BIO-CR-BIO_2024.01_TSH_1.xml", "N2") == 2
    assert "N3 or N1" in capsys.readouterr().err
