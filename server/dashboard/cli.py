"""``sgl dashboard``: the delivery dashboards (SGL.TBB.01-03) from a terminal, on the data dir's database (shared
with a running server) or ``SGL_MONGODB_URI``: a short summary per line, or ``--csv`` for the same ``;`` extract
``GET /fhir/$delivery-dashboard?_format=csv`` gives (redirect it to a file a spreadsheet opens)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from server.cli_database import run_with_database
from server.dashboard.backfill import backfill_delivery_facts
from server.dashboard.compute import Row, dashboard, key
from server.dashboard.periods import CODES, chosen_periods
from server.dashboard.render import ROUTE_LABELS, as_csv
from server.delivery.facts import ROUTES
from server.delivery.service import lab_site
from server.settings import Settings


def summary(row: Row) -> str:
    metrics = row.metrics()
    routes = ", ".join(f"{ROUTE_LABELS[r]} {metrics[key(r) + '_delivered']} envoyés / {metrics[key(r) + '_failed']} "
                       "échecs" for r in ROUTES)
    return (f"{row.period.label} ({row.period.first_day} au {row.period.last_day}) FINESS {row.finess or '-'} "
            f"RPPS {row.rpps or 'tous'} : {metrics['produced']} CR-Bio produits ; {routes}")


@click.command("dashboard")
@click.option("--period", "period_codes", multiple=True, type=click.Choice(CODES),
              help="mois, annee, annee-precedente (repeatable; default: all three).")
@click.option("--finess", help="Only this FINESS géographique.")
@click.option("--date", "day", help="The day the periods are drawn around (YYYY-MM-DD; default: today).")
@click.option("--csv", "as_csv_", is_flag=True, help="The ';' CSV extract (UTF-8 with BOM) instead of a summary.")
@click.option("--backfill", is_flag=True,
              help="First give the deliveries stored before the dashboard facts existed their facts (done once "
                   "at start-up; again here, e.g. after restoring old deliveries).")
@click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
              help="Data directory of the embedded database (shared with a running server).")
def dashboard_command(period_codes: tuple[str, ...], finess: str | None, day: str | None, as_csv_: bool,
                      backfill: bool, data_dir: Path) -> None:
    """CR-Bio produced and sent per channel, failures and rates, by FINESS and RPPS (SGL.TBB.01-03)."""
    if backfill:
        site = lab_site(Settings(data_dir=data_dir))  # the lab profile of SGL_LAB_PROFILE, as the server reads it
        done = run_with_database(data_dir, lambda database: backfill_delivery_facts(
            database.db, database.store, site, force=True))
        click.echo(f"backfill;{done}", err=as_csv_)
    chosen = chosen_periods(list(period_codes), day)
    rows = run_with_database(data_dir, lambda database: dashboard(database.db, chosen, finess=finess))
    if as_csv_:
        sys.stdout.buffer.write(as_csv(rows).encode("utf-8"))
        return
    for row in rows:
        click.echo(summary(row))
