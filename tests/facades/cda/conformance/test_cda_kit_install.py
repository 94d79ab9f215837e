"""``install_kit`` (facades/cda/conformance/kit_install.py) and the pinned manifest (kit_files.py): the kit
installed from a local copy, a ``file://`` URL, a local HTTP server and an archive; a corrupted or missing file
refuses the install and leaves nothing (or the previous kit) in place; the installed files are enough for the
validator to pass the ANS examples."""

from __future__ import annotations

import functools
import http.server
import io
import shutil
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from facades.cda.conformance import Kit, KitInstallError, check_kit, install_kit, validate_cda
from facades.cda.conformance.kit_files import load_manifest, needed_files

SHARED_KIT = Path(__file__).resolve().parents[4].parent / "shared" / "kits" / "ans-cda-testkit"
MANIFEST = load_manifest()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shared kit's needed files (the tests corrupt their own copies, never the shared kit)."""
    root = tmp_path_factory.mktemp("kit-source") / "TestContenuCDA-3-0"
    for entry in MANIFEST.entries:
        (root / entry.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED_KIT / entry.path, root / entry.path)
    return root


@pytest.fixture(scope="module")
def http_base(source: Path) -> Iterator[str]:
    """The source folder served by a real HTTP server on loopback, stopped at the end."""
    handler = functools.partial(_QuietHandler, directory=str(source.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


def test_manifest_pins_the_files_the_validator_reads_and_nothing_else() -> None:
    paths = [e.path for e in MANIFEST.entries]
    assert paths == needed_files(SHARED_KIT)  # the pinned list is what the validator reads in this kit version
    assert "infrastructure/cda/CDA_extended.xsd" in paths and "schematrons/CI-SIS_BIO-CR-BIO_2024.01.sch" in paths
    assert not [p for p in paths if p.startswith("ExemplesCDA/")]
    assert check_kit(SHARED_KIT).ok


def test_install_from_a_local_copy_gives_a_kit_the_validator_accepts(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "data" / "kits" / "ans-cda-testkit"
    done = install_kit(str(source), dest)
    assert done.files == len(MANIFEST.entries) and check_kit(dest).ok
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()) == sorted(
        e.path for e in MANIFEST.entries)
    kit = Kit(dest)
    for example in sorted((SHARED_KIT / "ExemplesCDA").glob("BIO-CR-BIO_2024.01_*.xml"))[:3]:
        report = validate_cda(example.read_bytes(), level="N3", kit=kit)
        assert report.errors == [], (example.name, [f.message for f in report.errors][:3])


def test_install_from_a_file_url(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "kit"
    install_kit(source.as_uri(), dest)
    assert check_kit(dest).ok


def test_install_from_a_local_http_server(http_base: str, tmp_path: Path) -> None:
    dest = tmp_path / "kit"
    install_kit(f"{http_base}/TestContenuCDA-3-0/", dest)
    assert check_kit(dest).ok


def test_install_from_an_archive_with_a_top_folder_over_http(source: Path, http_base: str, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(source, arcname="TestContenuCDA-3-0-7cd489b3")
    (source.parent / "kit.tar.gz").write_bytes(buffer.getvalue())
    dest = tmp_path / "kit"
    install_kit(f"{http_base}/kit.tar.gz", dest)
    assert check_kit(dest).ok


def test_corrupted_file_is_refused_by_its_checksum_and_nothing_is_installed(source: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad-source"
    shutil.copytree(source, bad)
    victim = "jeuxDeValeurs/JDV_J01_XdsAuthorSpecialty_CISIS.xml"
    data = (bad / victim).read_bytes()
    (bad / victim).write_bytes(data.replace(b"G15_10/SM03", b"G15_10/SM99", 1))  # same size, other bytes
    dest = tmp_path / "kit"
    with pytest.raises(KitInstallError) as caught:
        install_kit(str(bad), dest)
    assert victim in caught.value.diagnostics and "SHA-256" in caught.value.diagnostics
    assert not dest.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kit")]  # no staging folder left behind


def test_missing_file_refuses_and_keeps_the_previous_kit(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "kit"
    install_kit(str(source), dest)
    partial = tmp_path / "partial"
    shutil.copytree(source, partial)
    (partial / "infrastructure/cda/CDA_extended.xsd").unlink()
    with pytest.raises(KitInstallError) as caught:
        install_kit(str(partial), dest)
    assert "missing: infrastructure/cda/CDA_extended.xsd" in caught.value.diagnostics
    assert check_kit(dest).ok  # the earlier install is untouched


def test_check_names_what_is_missing_and_how_to_install_it(tmp_path: Path) -> None:
    result = check_kit(tmp_path / "empty")
    assert not result.ok and len(result.missing) == len(MANIFEST.entries)
    assert "sgl kit install" in result.summary() and "infrastructure/cda/" in result.summary()
