"""The ``sgl`` command line: ``sgl serve`` and the tools around it (``sgl --help``)."""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from server.log_limits import install as install_log_limits
from server.settings import Settings

if TYPE_CHECKING:
    from server.embedded import EmbeddedDatabase


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    install_log_limits(settings.log_burst, settings.log_window)
    from server.access.logmask import install_ins_log_filter
    from server.log_escape import install_control_character_filter

    install_control_character_filter()  # first: the INS filter formats the message when it masks
    install_ins_log_filter()


WORKFLOW_COMMANDS = {
    "catalog": "server.catalog.cli:catalog", "identity": "server.identity.cli:identity",
    "partners": "server.partners.cli:partners", "users": "server.access.cli:users",
    "clients": "server.access.cli:api_clients", "tokens": "server.access.cli:api_tokens",
    "audit": "server.audit_chain:audit", "kit": "server.kit_cli:kit", "deliveries": "server.delivery.cli:deliveries",
    "annuaire": "server.annuaire.cli:annuaire", "export": "server.portability.cli:export_command",
    "import": "server.portability.cli:import_command", "dashboard": "server.dashboard.cli:dashboard_command",
    "retention": "server.retention.cli:retention",
}
"""Each workflow keeps its commands in its own module, imported only when its command runs: ``sgl partners
import`` need not load the whole server (seconds per call, paid by every deployment script and test)."""


class WorkflowGroup(click.Group):
    """The ``sgl`` group: its own commands plus :data:`WORKFLOW_COMMANDS`, loaded on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *WORKFLOW_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in WORKFLOW_COMMANDS:
            module, _, attr = WORKFLOW_COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=WorkflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def main(verbose: bool) -> None:
    """OpenSGL, a laboratory information system for French medical biology labs."""
    _logging(verbose)


def _check_seal(settings: Settings) -> None:
    """A CR-Bio seal certificate that cannot seal (SGL.DOC.19) stops ``sgl serve`` before anything opens, with
    the reason on one line (``run_startup`` checks it again for an application started otherwise). No seal
    configured (the usual case): nothing to check, and nothing imported for it (the documents workflow loads while
    the database starts: ``_database_while_importing``)."""
    if settings.crbio_seal_cert is None and settings.crbio_seal_key is None:
        return
    from facades.pdf.errors import SealConfigError
    from server.documents.service import seal_config

    try:
        seal_config(settings)
    except SealConfigError as exc:
        raise click.ClickException(f"SGL_CRBIO_SEAL_*: {exc}") from exc


SERVE_MODULES = ("uvicorn", "server.app", "server.http_pace", "server.http_protocol", "resources.connections")
"""What ``sgl serve`` imports before it can start the application."""


def _database_while_importing(settings: Settings) -> EmbeddedDatabase | None:
    """Start the embedded database (None on SGL_MONGODB_URI) while another thread imports the server.

    The two used to follow each other: about 2 CPU s of imports, then the database's own start (its process,
    WiredTiger recovery; on a first start also the run that creates its user), which mostly waits. Overlapped, a
    restart answers sooner by the database's start and a first start by most of its provisioning (README
    "Start-up"). The database is started here, in the main thread, as before in the application's start-up:
    ``PR_SET_PDEATHSIG`` follows the thread that forks it (server/embedded.py), and this thread runs the server.
    An import that fails in the other thread fails again, with its traceback, where ``serve`` imports it."""
    if settings.mongodb_uri:
        return None
    from server.embedded import open_embedded

    importing = threading.Thread(target=_import_quietly, args=(SERVE_MODULES,), name="serve-imports", daemon=True)
    importing.start()
    try:
        return open_embedded(settings.data_dir)
    except Exception as exc:  # as when the application's start-up opened it: logged, uvicorn's exit code 3
        logging.getLogger("server.app").exception("the embedded database did not start: %s", exc)
        raise SystemExit(3) from exc
    finally:
        importing.join()


def _import_quietly(modules: tuple[str, ...]) -> None:
    for name in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="HTTP port of the FHIR API.")
@click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
              help="Where the embedded database keeps its files (ignored with SGL_MONGODB_URI).")
@click.option("--mllp-port", default=2575, show_default=True, type=int,
              help="HL7 v2 over MLLP (PAM-FR identities, analyzer results, orders); 0 disables.")
@click.option("--astm-port", default=2576, show_default=True, type=int,
              help="ASTM E1381/E1394 over TCP (analyzers); 0 disables.")
@click.option("--mllp-tls-port", default=None, type=int,
              help="MLLP over TLS (needs SGL_MLLP_TLS_CERT/KEY, SGL_MLLP_TLS_CA for client certificates); "
                   "default SGL_MLLP_TLS_PORT or off.")
def serve(host: str, port: int, data_dir: Path, mllp_port: int, astm_port: int, mllp_tls_port: int | None) -> None:
    """Start the FHIR server (at /fhir) and the MLLP/ASTM listeners, on the embedded database or on
    SGL_MONGODB_URI if set."""
    settings = Settings(host=host, port=port, data_dir=data_dir, mllp_port=mllp_port, astm_port=astm_port)
    if mllp_tls_port is not None:
        settings = settings.model_copy(update={"mllp_tls_port": mllp_tls_port})
    _check_seal(settings)
    embedded = _database_while_importing(settings)

    import uvicorn

    from resources.connections import ConnectionGate
    from server.app import create_app
    from server.http_pace import HttpPace
    from server.http_protocol import SglH11Protocol

    app = create_app(settings, embedded=embedded)

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # uvicorn waits for open responses before the application's shutdown: end the worklist event
            # streams (server/worklist_events.py) first, or an open workbench would hold the server up
            app.state.worklist_events.close_soon()
            super().handle_exit(sig, frame)

    protocol = SglH11Protocol.configured(
        HttpPace(settings.http_head_timeout, settings.http_body_timeout, settings.http_body_min_rate),
        ConnectionGate("HTTP listener", max_total=settings.max_http_connections,
                       max_per_address=settings.max_http_connections_per_address))
    server = _Server(uvicorn.Config(app, host=host, port=port, http=protocol, log_config=None, access_log=True,
                                    timeout_keep_alive=settings.http_keep_alive))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn raises the ^C again once it has shut down (as uvicorn.run)
        server.run()
    if not server.started:
        raise SystemExit(3)  # uvicorn's STARTUP_FAILURE: the application did not start


@main.group()
def db() -> None:
    """Inspect the database (embedded or SGL_MONGODB_URI)."""


@db.command("stats")
@click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
              help="Data directory of the embedded database (shared with a running server).")
def db_stats(data_dir: Path) -> None:
    """Count current resources per type."""
    import asyncio

    from resources.search.params import RESOURCE_TYPES
    from server.database import open_database

    async def run() -> dict[str, int]:
        database = await open_database(Settings(data_dir=data_dir))
        try:
            return {t: await database.db[t].estimated_document_count() for t in RESOURCE_TYPES}
        finally:
            await database.close()

    counts = asyncio.run(run())
    click.echo("type;count")
    for rtype, n in counts.items():
        click.echo(f"{rtype};{n}")


@main.group()
def validate() -> None:
    """Offline conformance checks."""


@validate.command("cda")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--level", type=click.Choice(["N3", "N1"]), default=None,
              help="CDA level; default: N1 for a nonXMLBody, else N3.")
@click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
              help="Data directory whose installed ANS kit is used (sgl kit install), unless SGL_CDA_KIT_DIR is set.")
def validate_cda(file: Path, level: str | None, data_dir: Path) -> None:
    """Validate a CDA file (or a self-presenting one) with the ANS kit: CDA_extended.xsd and the schematrons.

    Prints the failed asserts with their location; exits 1 on an error, 2 if the file is not a CDA, 3 if the
    kit is not installed."""
    from facades.cda import cli_validate
    from facades.cda.conformance import use_data_dir

    use_data_dir(data_dir)
    raise SystemExit(cli_validate(file, level))


@main.command("insi-simulator")
@click.option("--port", default=8443, show_default=True, type=int, help="HTTPS port on 127.0.0.1.")
@click.option("--cert-dir", default=Path("./var/insi-pki"), show_default=True, type=click.Path(path_type=Path),
              help="Test CA, server and client certificates (generated when missing).")
def insi_simulator(port: int, cert_dir: Path) -> None:
    """Serve a local INSi test service (SOAP 1.2 over mutual TLS) answering the public test identities."""
    from facades.insi import run_simulator

    run_simulator(port, cert_dir)


@main.command("mssante-simulator")
@click.option("--smtp-port", default=2587, show_default=True, type=int, help="SMTP submission (STARTTLS) on 127.0.0.1.")
@click.option("--imap-port", default=2143, show_default=True, type=int, help="IMAP (STARTTLS) on 127.0.0.1.")
@click.option("--admin-port", default=8025, show_default=True, type=int,
              help="Plain HTTP: GET /_sim/messages[?to=ADDRESS], GET /_sim/inbox?address=BAL, POST /ocsp.")
@click.option("--cert-dir", default=Path("./var/mssante-pki"), show_default=True, type=click.Path(path_type=Path),
              help="Test IGC-Santé CA, operator and BAL certificates, CRL (made when missing; CRL renewed).")
@click.option("--bal", default="labo@labo-opensgl.mssante.fr", show_default=True,
              help="The applicative BAL whose inbox IMAP serves (receipts land there).")
@click.option("--unknown", multiple=True, help="An address that bounces (DSN 5.1.1); repeatable.")
@click.option("--integration-error", multiple=True,
              help="An address whose platform answers an MDN 'processed/Error'; repeatable.")
def mssante_simulator(smtp_port: int, imap_port: int, admin_port: int, cert_dir: Path, bal: str,
                      unknown: tuple[str, ...], integration_error: tuple[str, ...]) -> None:
    """Serve a local MSSanté operator: SMTP + IMAP with STARTTLS, TLS 1.2 only, the four MSSanté cipher
    suites and client certificates; DSN/MDN receipts into the BAL's inbox.

    Point the server at it with SGL_MSS_SMTP=127.0.0.1:SMTP_PORT, SGL_MSS_IMAP=127.0.0.1:IMAP_PORT,
    SGL_MSS_CERT=CERT_DIR/client.pem, SGL_MSS_KEY=CERT_DIR/client-key.pem, SGL_MSS_CA=CERT_DIR/ca.pem,
    SGL_MSS_CRL=CERT_DIR/crl.pem, SGL_MSS_FROM=BAL; and/or SGL_MSS_OCSP=http://127.0.0.1:ADMIN_PORT/ocsp (its
    OCSP responder, answering from the same CRL)."""
    from facades.insi.dev_pki import create_test_pki, ensure_test_pki
    from facades.mssante.dev_crl import write_crl
    from facades.mssante.simulator import Mailboxes, OcspResponder, run_simulator

    if not (cert_dir / "ca.pem").is_file():
        create_test_pki(cert_dir, client_common_name="BAL-APPLICATIVE")
    pki = ensure_test_pki(cert_dir)
    write_crl(pki.ca.cert, pki.ca.key, cert_dir / "crl.pem")
    boxes = Mailboxes(unknown={a.lower() for a in unknown}, integration_error={a.lower() for a in integration_error})
    run_simulator(pki.server.cert, pki.server.key, pki.ca.cert, bal=bal, ports=(smtp_port, imap_port, admin_port),
                  boxes=boxes, ocsp=OcspResponder(pki.ca.cert, pki.ca.key, cert_dir / "crl.pem"))
@main.command("dmp-simulator")
@click.option("--port", default=8445, show_default=True, type=int, help="HTTPS port on 127.0.0.1.")
@click.option("--web-port", default=8446, show_default=True, type=int,
              help="HTTPS port of the web-PS portal (TD0.9 landing page, no client certificate); 0 = off.")
@click.option("--cert-dir", default=Path("./var/dmp-pki"), show_default=True, type=click.Path(path_type=Path),
              help="Test CA, server certificate, the lab's client certificate and key (generated when missing).")
def dmp_simulator(port: int, web_port: int, cert_dir: Path) -> None:
    """Serve a local DMP (IHE XDS.b ITI-41/ITI-57, SOAP 1.2 + MTOM) over mutual TLS on 127.0.0.1.

    Base URL (SGL_DMP_URL): https://127.0.0.1:PORT/si-dmp-server/v2/services; the lab uses CERT_DIR/client.pem
    and client-key.pem (SGL_DMP_CERT, SGL_DMP_KEY; also its seal certificate) and trusts CERT_DIR/ca.pem
    (SGL_DMP_CA). GET /_sim/documents lists what it holds (JSON). The TD0.9 landing page is
    https://127.0.0.1:WEB_PORT/web-ps (SGL_DMP_WEB_URL); GET /_sim/web-calls lists the calls it received."""
    from facades.dmp.simulator.run import run_simulator
    from facades.insi.dev_pki import ensure_test_pki

    pki = ensure_test_pki(cert_dir)
    run_simulator(port, pki.server.cert, pki.server.key, pki.ca.cert, web_port=web_port)


@main.command("psc-simulator")
@click.option("--port", default=8444, show_default=True, type=int, help="HTTPS port on 127.0.0.1.")
@click.option("--cert-dir", default=Path("./var/psc-pki"), show_default=True, type=click.Path(path_type=Path),
              help="Test CA, TLS certificate and ID-token signing key (generated when missing).")
@click.option("--users", "users_file", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON array of userinfo objects replacing the built-in test professionals.")
@click.option("--client-id", default="opensgl-dev", show_default=True, help="The registered relying party.")
@click.option("--client-secret", default="opensgl-dev-secret", show_default=True, help="Its secret.")
@click.option("--code-ttl", default=60.0, show_default=True, type=float, help="Authorization code lifetime (s).")
def psc_simulator(port: int, cert_dir: Path, users_file: Path | None, client_id: str, client_secret: str,
                  code_ttl: float) -> None:
    """Serve a local Pro Santé Connect (OpenID Connect over HTTPS) with a test-user picker.

    Discovery: https://127.0.0.1:PORT/auth/realms/esante-wallet/.well-known/wallet-openid-configuration;
    trust CERT_DIR/ca.pem (SGL_PSC_CA) to reach it."""
    from facades.insi.dev_pki import ensure_test_pki
    from facades.psc.simulator import run_simulator

    pki = ensure_test_pki(cert_dir)
    run_simulator(port, pki.server.cert, pki.server.key, cert_dir, users_file=users_file,
                  clients={client_id: client_secret}, code_ttl=code_ttl)
