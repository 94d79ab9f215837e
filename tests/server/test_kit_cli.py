"""``sgl kit install`` / ``check`` as an operator runs them (issue 10 item 16): from a local copy and from a
``file://`` URL into a temp dir, a corrupted source refused by its checksum (exit 1, nothing installed), and
``sgl validate cda`` saying the kit is missing instead of crashing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from facades.cda.conformance.kit_files import load_manifest

SHARED_KIT = Path(__file__).resolve().parents[2].parent / "shared" / "kits" / "ans-cda-testkit"


def _sgl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "sgl"), *args], capture_output=True, text=True,
                          timeout=600, check=False, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("src") / "kit"
    for entry in load_manifest().entries:
        (root / entry.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED_KIT / entry.path, root / entry.path)
    return root


def test_install_into_the_data_dir_then_check(source: Path, tmp_path: Path) -> None:
    env = {"SGL_CDA_KIT_DIR": ""}
    done = _sgl("kit", "install", str(source), "--data-dir", str(tmp_path / "var"), env=env)
    assert done.returncode == 0, done.stderr
    installed = tmp_path / "var" / "kits" / "ans-cda-testkit"
    assert str(installed) in done.stdout and (installed / "infrastructure/cda/CDA_extended.xsd").is_file()
    checked = _sgl("kit", "check", "--data-dir", str(tmp_path / "var"), env=env)
    assert checked.returncode == 0 and f"ANS CDA kit OK in {installed}" in checked.stdout
    example = SHARED_KIT / "ExemplesCDA" / "BIO-CR-BIO_2024.01_TSH_1.xml"
    validated = _sgl("validate", "cda", str(example), "--data-dir", str(tmp_path / "var"), env=env)
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_install_from_a_file_url(source: Path, tmp_path: Path) -> None:
    done = _sgl("kit", "install", source.as_uri(), "--dir", str(tmp_path / "kit"))
    assert done.returncode == 0, done.stderr
    assert _sgl("kit", "check", "--dir", str(tmp_path / "kit")).returncode == 0


def test_corrupted_source_is_refused_and_nothing_installed(source: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(source, bad)
    target = bad / "schematrons/CI-SIS_BIO-CR-BIO_2024.01.sch"
    target.write_bytes(target.read_bytes() + b"\n<!-- altered -->\n")
    done = _sgl("kit", "install", str(bad), "--dir", str(tmp_path / "kit"))
    assert done.returncode == 1
    assert "schematrons/CI-SIS_BIO-CR-BIO_2024.01.sch" in done.stderr and "SHA-256" in done.stderr
    assert not (tmp_path / "kit").exists()


def test_check_of_an_altered_kit_names_the_file(source: Path, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    assert _sgl("kit", "install", str(source), "--dir", str(kit)).returncode == 0
    (kit / "jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml").write_text("<x/>")
    checked = _sgl("kit", "check", "--dir", str(kit))
    assert checked.returncode == 1 and "JDV_J07_XdsTypeCode_CISIS.xml" in checked.stderr
    assert "sgl kit install" in checked.stderr


def test_validate_without_a_kit_says_so(tmp_path: Path) -> None:
    document = SHARED_KIT / "ExemplesCDA" / "BIO-CR-BIO_2024.01_TSH_1.xml"
    done = _sgl("validate", "cda", str(document), env={"SGL_CDA_KIT_DIR": str(tmp_path / "none")})
    assert done.returncode == 3 and "sgl kit install" in done.stderr and "Traceback" not in done.stderr
