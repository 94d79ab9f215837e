"""``sgl validate cda FILE``: the body of the command, for ``server/cli.py`` to wire."""

from __future__ import annotations

from pathlib import Path

import click

from facades.cda.conformance.report import format_report
from facades.cda.conformance.validate import validate_cda
from facades.cda.errors import KitError, NotACda

EXIT_OK = 0
EXIT_NOT_CONFORMANT = 1
EXIT_BAD_INPUT = 2
EXIT_NO_KIT = 3


def cli_validate(path: Path, level: str | None = None) -> int:
    """Validate ``path`` and print the text report with ``click.echo``.

    Exit code: 0 conformant, 1 not conformant, 2 not a CDA (or a bad level), 3 the ANS kit is not installed.
    """
    if level not in (None, "N3", "N1"):
        click.echo(f"level must be N3 or N1, not {level!r}", err=True)
        return EXIT_BAD_INPUT
    try:
        report = validate_cda(path, level="N1" if level == "N1" else "N3" if level else None)
    except NotACda as exc:
        where = ", ".join(exc.expression)
        click.echo(f"{path}: {exc.diagnostics}" + (f" ({where})" if where else ""), err=True)
        return EXIT_BAD_INPUT
    except KitError as exc:
        click.echo(f"{path}: {exc.diagnostics}", err=True)
        return EXIT_NO_KIT
    click.echo(format_report(report), nl=False)
    return EXIT_OK if report.ok else EXIT_NOT_CONFORMANT
