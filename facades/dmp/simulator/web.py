"""The simulated DMP web portal for professionals: the TD0.9 landing page (SGL.DMP.05, DMP.06).

Served on its own HTTPS port without a client certificate, as a browser reaches the real web-PS: the
professional's identity comes from the signed VIHF the LPS put in the form, not from TLS.

- ``POST /web-ps`` (``application/x-www-form-urlencoded``, the fields of :mod:`facades.dmp.web_access`):
  200 and a minimal HTML page naming the page, the patient (INS) and the professional the call carried;
  400 and a page saying why for a malformed call (missing field, unknown page, bad INS, VIHF unsigned,
  expired, signed by another CA, or naming another patient or professional).
- Every call, accepted or not, is recorded; the harness reads them at ``GET /_sim/web-calls`` on the
  mutual-TLS port (:mod:`facades.dmp.simulator.app`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from cryptography import x509
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from facades.dmp.web_access import CallRefused, read_call

WEB_PATH = "/web-ps"
MAX_FORM = 64 * 1024
TITLES = {"DossierPatient": "Dossier patient", "TableauDeBord": "Tableau de bord du professionnel"}


@dataclass
class WebCalls:
    """The TD0.9 calls received, newest last (the harness's view)."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        self.calls.clear()


def _page(title: str, lines: list[tuple[str, str]], status: int) -> Response:
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in lines)
    body = (f"<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>DMP - {html.escape(title)}"
            f"</title></head><body><h1>{html.escape(title)}</h1><table>{rows}</table></body></html>")
    return HTMLResponse(body, status_code=status)


def create_web_app(ca: x509.Certificate, calls: WebCalls) -> Starlette:
    """The ASGI app of the web-PS port; ``ca`` must have issued the VIHF's seal certificate."""

    async def landing(request: Request) -> Response:
        body = await request.body()
        received = datetime.now(UTC)
        record: dict[str, Any] = {"received": received.isoformat(timespec="milliseconds"), "accepted": False}
        calls.calls.append(record)
        if len(body) > MAX_FORM or "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
            record["reason"] = "not an HTML form (application/x-www-form-urlencoded)"
            return _page("Appel contextuel refusé", [("Motif", record["reason"])], 400)
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        record.update({k: form.get(k, "") for k in ("page", "ins", "ps", "mode")})
        try:
            landed = read_call(form, ca, received)
        except CallRefused as exc:
            record["reason"] = str(exc)
            return _page("Appel contextuel refusé", [("Motif", str(exc))], 400)
        vihf = landed.vihf
        record.update({"accepted": True, "subject": vihf.subject_name, "roles": list(vihf.roles),
                       "structure": vihf.structure, "authnMode": vihf.attributes.get("Authentification_Mode", ""),
                       "software": vihf.attributes.get("LPS_Nom", "")})
        return _page(TITLES.get(landed.page, landed.page), [
            ("Page", landed.page), ("Patient (INS)", landed.ins.split("^", 1)[0]),
            ("Professionnel", f"{vihf.subject_name} ({vihf.name_id})"), ("Rôles", ", ".join(vihf.roles)),
            ("Structure", vihf.structure), ("Mode d'authentification", record["authnMode"]),
            ("Logiciel", record["software"])], 200)

    return Starlette(routes=[Route(WEB_PATH, landing, methods=["POST"])])
