"""``sgl kit``: install and check the ANS CDA test kit the CR-Bio conformance check reads.

The kit (XSD, schematrons, value sets of ansforge/TestContenuCDA-3-0) is not part of OpenSGL; only the
manifest of the files the validator needs, with their SHA-256, is (``facades/cda/conformance/kit_manifest.txt``).
"""

from __future__ import annotations

from pathlib import Path

import click

from facades.cda.conformance import (
    DEFAULT_SOURCE,
    KitInstallError,
    build_manifest,
    check_kit,
    install_kit,
    installed_dir,
    kit_dir,
    use_data_dir,
)

EXIT_OK, EXIT_PROBLEM = 0, 1
_DATA_DIR = click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
                         help="Data directory: the kit goes to DATA_DIR/kits/ans-cda-testkit.")
_DIR = click.option("--dir", "target", default=None, type=click.Path(path_type=Path),
                    help="Kit folder instead (default: $SGL_CDA_KIT_DIR, else under --data-dir).")


@click.group()
def kit() -> None:
    """The ANS CDA test kit used to check every CR-Bio before it is stored."""


def _destination(target: Path | None, data_dir: Path) -> Path:
    import os

    if target:
        return target
    return Path(os.environ["SGL_CDA_KIT_DIR"]) if os.environ.get("SGL_CDA_KIT_DIR") else installed_dir(data_dir)


@kit.command("install")
@click.argument("source", required=False, default=DEFAULT_SOURCE)
@_DIR
@_DATA_DIR
def install(source: str, target: Path | None, data_dir: Path) -> None:
    """Install the kit from SOURCE: a folder holding a copy, a .zip/.tar.gz archive (path or URL), or a base URL
    (http(s):// or file://) of the kit's files. Default: the official ANS repository at the pinned commit.

    Every file is checked against the pinned SHA-256 before anything is written; a missing or corrupted file
    refuses the whole install (exit 1) and keeps the previous kit."""
    dest = _destination(target, data_dir)
    try:
        done = install_kit(source, dest)
    except KitInstallError as exc:
        click.echo(f"sgl kit install: {exc.diagnostics}", err=True)
        raise SystemExit(EXIT_PROBLEM) from exc
    click.echo(f"installed {done.files} files ({done.size} bytes, {done.version}) in {done.root}")


@kit.command("check")
@_DIR
@_DATA_DIR
def check(target: Path | None, data_dir: Path) -> None:
    """Say whether the kit the server would use is complete and intact (exit 1 if not)."""
    use_data_dir(data_dir)
    result = check_kit(target or kit_dir())
    click.echo(result.summary(), err=not result.ok)
    raise SystemExit(EXIT_OK if result.ok else EXIT_PROBLEM)


@kit.command("manifest")
@click.argument("kit_root", type=click.Path(exists=True, file_okay=False, path_type=Path))
def manifest(kit_root: Path) -> None:
    """Print the manifest (sha256 size path) of the files the validator reads in KIT_ROOT (maintainers: when the
    pinned kit version changes, write it to facades/cda/conformance/kit_manifest.txt)."""
    click.echo(build_manifest(kit_root).text(), nl=False)
