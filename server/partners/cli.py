"""``sgl partners add|list|remove|import|set-mappings``: the socket partners, with or without a running server.

The commands write the ``partners`` collection of the data dir's database (the embedded one is
shared with a running ``sgl serve``) or of ``SGL_MONGODB_URI``; a running server sees the change
within a second (``registry.CACHE_SECONDS``), no restart needed.

The CLI has no callers to tell apart: whoever can open the data dir acts as its operator, with the
``administrateur`` role. Each change is still checked against the permission table (the row that
grants the matching ``/fhir/Endpoint`` door) and traced by an AuditEvent naming the operator.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from resources.errors import SglError
from resources.store.base import FhirStore
from server.access.caller import Caller, operator
from server.access.permissions import DELETE, authorize
from server.access.roles import ADMINISTRATEUR, PARTNER_ROLES
from server.cli_database import run_with_database
from server.partners import administration as admin_partners
from server.partners.administration import from_fields
from server.partners.model import Partner
from server.partners.registry import PartnerRegistry

T = TypeVar("T")
DATA_DIR = click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
                        help="Data directory of the embedded database (shared with a running server).")


def _run(data_dir: Path, work: Callable[[PartnerRegistry], Awaitable[T]]) -> T:
    return run_with_database(data_dir, lambda database: work(PartnerRegistry(database.db)))


def _admin(data_dir: Path, door: str, work: Callable[[PartnerRegistry, FhirStore, Caller], Awaitable[T]]) -> T:
    """A change through the service the HTTP doors call (server/partners/administration.py), allowed by the
    same permission row as the HTTP ``door`` on Endpoint and traced the same way."""
    who = operator(ADMINISTRATEUR)
    try:
        authorize(who.role, "Endpoint", door)
    except SglError as exc:
        raise click.ClickException(exc.diagnostics) from exc
    return run_with_database(data_dir, lambda database: work(PartnerRegistry(database.db), database.store, who))


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, sep, target = value.partition("=")
        if not sep or not key or not target:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint=option)
        out[key.strip()] = target.strip()
    return out


def _partner(fields: dict[str, Any]) -> Partner:
    try:
        return from_fields(fields)
    except SglError as exc:
        raise click.ClickException(exc.diagnostics) from exc


@click.group()
def partners() -> None:
    """Socket partners (MLLP/ASTM): who may send what, from where."""


@partners.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(PARTNER_ROLES), help="What the partner may send.")
@click.option("--hl7-application", help="MSH-3 (sending application) of its HL7 messages.")
@click.option("--hl7-facility", help="MSH-4 (sending facility), when the application name is not enough.")
@click.option("--astm-sender", help="ASTM H-5 sender name (first component), for an automate.")
@click.option("--address", "addresses", multiple=True, help="IP or CIDR it connects from (repeatable; default any).")
@click.option("--send-to", help="HOST:PORT where the lab sends to it (results to a DPI, orders to an analyzer).")
@click.option("--identifier-type", "identifier_types", multiple=True,
              help="PID-3 identifier type mapping, e.g. MR=PI: its MR identifier is the IPP (repeatable).")
@click.option("--option", "options", multiple=True, help="Partner-level parsing option KEY=VALUE (repeatable).")
@click.option("--identity-updates", is_flag=True,
              help="A dpi partner that takes ADT^A31/A40 on --send-to: told of identity changes of its patients.")
@DATA_DIR
def add(name: str, role: str, hl7_application: str | None, hl7_facility: str | None, astm_sender: str | None,
        addresses: tuple[str, ...], send_to: str | None, identifier_types: tuple[str, ...], options: tuple[str, ...],
        identity_updates: bool, data_dir: Path) -> None:
    """Register a partner; exit 1 if the name or its sender is already taken."""
    partner = _partner({"name": name, "role": role, "hl7_application": hl7_application,
                        "hl7_facility": hl7_facility, "astm_sender": astm_sender, "addresses": addresses,
                        "send_to": send_to, "identifier_types": _pairs(identifier_types, "--identifier-type"),
                        "options": _pairs(options, "--option"), "identity_updates": identity_updates})
    _admin(data_dir, "$add-partner", lambda registry, store, who: admin_partners.add(registry, store, who, partner))
    click.echo(f"partner {partner.describe()} registered")


@partners.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DATA_DIR
def import_partners(file: Path, data_dir: Path) -> None:
    """Register every partner of a JSON array (keys as the add options: name, role, hl7_application, ...)."""
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{file}: not a JSON array of partners ({exc})") from exc
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise click.ClickException(f"{file}: not a JSON array of partners")
    batch = [_partner(item) for item in raw]  # all valid before any is written

    async def add_all(registry: PartnerRegistry, store: FhirStore, who: Caller) -> None:
        for partner in batch:
            await admin_partners.add(registry, store, who, partner)

    _admin(data_dir, "$add-partner", add_all)
    click.echo(f"{len(batch)} partner(s) registered")


@partners.command("list")
@DATA_DIR
def list_partners(data_dir: Path) -> None:
    """The registered partners, one per line (;-separated, with a header)."""
    found = _run(data_dir, lambda registry: registry.all())
    click.echo("name;role;hl7_application;hl7_facility;astm_sender;addresses;send_to;identifier_types;"
               "identity_updates;options")
    for p in found:
        click.echo(";".join([p.name, p.role, p.hl7_application or "", p.hl7_facility or "", p.astm_sender or "",
                             ",".join(p.addresses), p.send_to or "", _listed(p.identifier_types),
                             "oui" if p.identity_updates else "non", _listed(p.options)]))


def _listed(pairs: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(pairs.items()))


@partners.command("remove")
@click.argument("name")
@DATA_DIR
def remove(name: str, data_dir: Path) -> None:
    """Unregister a partner: its next message is refused."""
    _admin(data_dir, DELETE, lambda registry, store, who: admin_partners.remove(registry, store, who, name))
    click.echo(f"partner {name} removed")


@partners.command("set-mappings")
@click.argument("name")
@click.option("--identifier-type", "identifier_types", multiple=True,
              help="PID-3 identifier type mapping RECEIVED=READ_AS, e.g. MR=PI (repeatable).")
@click.option("--option", "options", multiple=True, help="Partner-level parsing option KEY=VALUE (repeatable).")
@click.option("--if-version", type=int, default=None,
              help="Change it only if it is still at this version (what If-Match does over HTTP).")
@DATA_DIR
def set_mappings(name: str, identifier_types: tuple[str, ...], options: tuple[str, ...], if_version: int | None,
                 data_dir: Path) -> None:
    """Replace a partner's identifier-type mappings and options with the ones given (none given: none left).

    The same change as POST /fhir/Endpoint/NAME/$set-mappings: the same checks (nothing is written when one
    refuses), the next version of the partner, an AuditEvent naming the operator. Exit 1 when refused."""
    mappings, parsing = _pairs(identifier_types, "--identifier-type"), _pairs(options, "--option")
    partner, version = _admin(data_dir, "$set-mappings", lambda registry, store, who: admin_partners.set_mappings(
        registry, store, who, name, if_version, mappings, parsing))
    click.echo(f"partner {partner.name} version {version}: identifier types {_listed(partner.identifier_types) or '-'}"
               f"; options {_listed(partner.options) or '-'}")
