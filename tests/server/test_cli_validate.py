"""``sgl validate cda`` on the ANS examples and on a broken copy (SGL.DOC.01)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared/kits/ans-cda-testkit/ExemplesCDA"


def _sgl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "sgl"), *args], capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.mark.req("SGL.DOC.01")
def test_sgl_validate_cda_accepts_an_ans_example_and_rejects_a_broken_copy_SGL_DOC_01(tmp_path: Path) -> None:
    example = EXAMPLES / "BIO-CR-BIO_2024.01_TSH_1.xml"
    ok = _sgl("validate", "cda", str(example))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "broken.xml"
    broken.write_bytes(example.read_bytes().replace(b'code="11502-2"', b'code="11488-4"', 1))
    bad = _sgl("validate", "cda", str(broken))
    assert bad.returncode == 1
    assert "ClinicalDocument" in bad.stdout and "code" in bad.stdout
    not_cda = tmp_path / "note.txt"
    not_cda.write_text("bonjour")
    assert _sgl("validate", "cda", str(not_cda)).returncode == 2
