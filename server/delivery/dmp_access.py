"""``GET /fhir/Patient/{id}/$dmp-access?target=patient-file|dashboard``: the TD0.9 contextual call that opens
the DMP web portal for professionals on this patient (SGL.DMP.05, DMP.06), as the workbench's DMP button uses
it (an auto-submitted form in a new browser tab).

Given only to a person (a workbench session or a user's token: Pro Santé Connect, or a local account with an
RPPS), never to an API client, and only for a patient whose identity is qualified (the DMP is keyed by the
INS: SGL.INS.37). The permission is a row of ``server/access/permissions.py`` (biologists). Each call given or
refused is an AuditEvent naming the caller, the patient and the page. The answer is a ``Parameters``:

``launch`` (valueUrl, first: the page a new browser window opens, see below), ``url`` (valueUrl, the web-PS),
``method`` (``POST``), ``target``, ``page``, ``mode`` (Authentification_Mode), ``expires`` (the VIHF's end),
``professional`` (parts ``identifier``, ``name``), ``patient`` (valueReference), and one ``field`` per form field
to post (parts ``name``, ``value``): see :mod:`facades.dmp.web_access`.

With ``_format=html`` the same call answers an HTML page holding that form, submitted by the browser on load (a
nonce-allowed script; a button without script): a window opened on ``launch`` lands on the DMP without the
workbench building the form itself. Never cached (it carries a signed VIHF).

One user action, one signature, one AuditEvent: ``launch`` carries a single-use handle to the call the JSON
answer already signed and audited (``dmp_launch.py``: same caller, patient and page, two minutes), so the page
it opens shows that call; the request is still checked in full (permission, person with an RPPS, qualified
identity), and a used, stale or someone else's handle is refused (410, audited). ``_format=html`` without
``launch`` is an action of its own (signed and audited once).

Configured by ``SGL_DMP_WEB_URL`` (default: ``sgl dmp-simulator``'s landing page) and the seal that signs the
VIHF (``SGL_DMP_SEAL_CERT``/``_KEY``, else ``SGL_DMP_CERT``/``_KEY``).
"""

from __future__ import annotations

import functools
import html
import logging
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from facades.dmp import Person, Seal, Software, Structure
from facades.dmp.web_access import PAGES, WebCall, build_call
from resources.errors import Forbidden, Gone, InvalidInput, RuleViolation, Unavailable
from resources.ins import emittable_ins
from server.access.accounts import find_user
from server.access.caller import Caller
from server.access.enforce import request_caller
from server.access.sessions import session_method
from server.audit import audit_event
from server.delivery import dmp_launch
from server.delivery.dmp_channel import RPPS_SYSTEMS, lab_identity
from server.delivery.dmp_launch import LaunchOwner
from server.deps import BaseUrl, StoreDep
from server.responses import fhir_response
from server.settings import Settings

router = APIRouter()
log = logging.getLogger(__name__)
PROFESSION_SYSTEMS = ("1.2.250.1.71.1.2.7", "TRE_G15-ProfessionSante", "TRE-G15-ProfessionSante")


@functools.lru_cache(maxsize=4)
def _seal(cert: Path, key: Path) -> Seal:
    """Loaded once per process: the RSA key check costs about 0.1 s."""
    return Seal.from_files(cert, key)


def _qualification(practitioner: dict[str, Any]) -> tuple[str, str]:
    """(profession TRE_G15, savoir-faire) from the Practitioner's qualification (``G15_10/SM03`` -> ``SM03``)."""
    profession, specialty = "", ""
    for qualification in practitioner.get("qualification", ()):
        for coding in (qualification.get("code") or {}).get("coding", ()):
            code, system = str(coding.get("code", "")), str(coding.get("system", ""))
            if any(system.endswith(s) for s in PROFESSION_SYSTEMS) and not profession:
                profession = code
            elif "/" in code and not specialty:
                specialty = code.rsplit("/", 1)[1]
    return profession, specialty


async def _professional(request: Request, store: StoreDep, caller: Caller) -> tuple[Person, str]:
    """The logged-in professional (national id ``8`` + RPPS, names, profession) and how they logged in."""
    if caller.kind != "user":
        raise Forbidden("[SGL.DMP.05] the DMP web access opens for a person logged in to the workbench (Pro Santé "
                        "Connect, or a local account with an RPPS), not for an API client", expression="caller")
    user = await find_user(request.app.state.database.db, caller.id.removeprefix("user:"))
    practitioner: dict[str, Any] = {}
    if user is not None and user.practitioner:
        kind, _, pid = user.practitioner.partition("/")
        practitioner = (await store.read(kind, pid)).resource or {}
    rpps = (user.rpps if user is not None else None) or next(
        (str(i["value"]) for i in practitioner.get("identifier", ()) if i.get("system") in RPPS_SYSTEMS
         and i.get("value")), None)
    if not rpps:
        raise Forbidden("[SGL.DMP.05] the DMP names the professional by RPPS: this account has none "
                        "(sgl users create --rpps, or --practitioner with an RPPS)", expression="caller.rpps")
    name = (practitioner.get("name") or [{}])[0]
    family = str(name.get("family") or caller.display)
    given = " ".join(name.get("given", ()))
    profession, specialty = _qualification(practitioner)
    person = Person(rpps if len(rpps) == 12 else "8" + rpps, family, given, profession or "21", specialty)
    return person, await session_method(request) or "password"


def _answer(call: WebCall, target: str, person: Person, patient_id: str, launch: str) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [
        {"name": "launch", "valueUrl": launch},
        {"name": "url", "valueUrl": call.url},
        {"name": "method", "valueCode": "POST"},
        {"name": "target", "valueCode": target},
        {"name": "page", "valueString": call.page},
        {"name": "mode", "valueCode": call.mode},
        {"name": "expires", "valueInstant": call.expires.isoformat(timespec="seconds").replace("+00:00", "Z")},
        {"name": "professional", "part": [{"name": "identifier", "valueString": person.national_id},
                                          {"name": "name", "valueString": f"{person.given} {person.family}".strip()}]},
        {"name": "patient", "valueReference": {"reference": f"Patient/{patient_id}"}},
        *({"name": "field", "part": [{"name": "name", "valueString": k}, {"name": "value", "valueString": v}]}
          for k, v in call.fields.items()),
    ]}


def _launch_page(call: WebCall) -> Response:
    """The auto-submitted form posting the call to the web-PS (only that script may run, only there may it post)."""
    nonce = secrets.token_urlsafe(16)
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in call.fields.items())
    body = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Ouverture du DMP</title></head><body>'
            f'<form method="post" action="{html.escape(call.url)}">{inputs}<noscript><button type="submit">'
            f'Ouvrir le DMP ({html.escape(call.page)})</button></noscript></form>'
            f'<script nonce="{nonce}">document.forms[0].submit();</script></body></html>')
    origin = "/".join(call.url.split("/", 3)[:3])
    return HTMLResponse(body, headers={
        "Content-Security-Policy": f"default-src 'none'; script-src 'nonce-{nonce}'; form-action {origin}; "
                                   "frame-ancestors 'none'; base-uri 'none'",
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"})


async def _audit(store: StoreDep, caller: Caller, patient_id: str, detail: str, *, refused: bool) -> None:
    event = audit_event([patient_id], who=caller, interaction="operation", query=detail)
    if refused:
        event["outcome"] = "4"
    await store.create(event)


def _signed_call(settings: Settings, target: str, ins: dict[str, Any], person: Person, login: str) -> WebCall:
    """The TD0.9 call with its VIHF signed by the lab's seal (the one signature of a user action)."""
    cert, key = settings.dmp_seal_cert or settings.dmp_cert, settings.dmp_seal_key or settings.dmp_key
    if cert is None or key is None:
        raise Unavailable("the DMP web access is not configured: the seal certificate signing the VIHF is missing "
                          "(SGL_DMP_SEAL_CERT/SGL_DMP_SEAL_KEY or SGL_DMP_CERT/SGL_DMP_KEY)")
    lab = lab_identity(settings.lab_profile)
    structure = Structure(settings.dmp_structure_id or "3" + str(lab["finess"]), str(lab["name"]))
    software = Software("OpenSGL", "0.1.0", settings.dmp_lps_id, settings.dmp_homologation)
    return build_call(settings.dmp_web_url, target, str(ins["value"]), str(ins["system"]).removeprefix("urn:oid:"),
                      person, structure, software, _seal(cert, key), login, datetime.now(UTC))


@router.get("/Patient/{rid}/$dmp-access")
async def dmp_access(rid: str, request: Request, store: StoreDep, base: BaseUrl, target: str = "patient-file",
                     answer_format: str | None = Query(None, alias="_format"), launch: str | None = None) -> Response:
    if answer_format not in (None, "json", "html"):
        raise InvalidInput("_format is json (default) or html (the auto-submitted form)", expression="_format")
    if target not in PAGES:
        raise InvalidInput(f"target must be one of {', '.join(PAGES)}, not {target!r}", expression="target")
    if launch is not None and answer_format != "html":
        raise InvalidInput("launch names the page of an answer already given: it goes with _format=html",
                           expression="launch")
    caller = request_caller(request)
    patient = (await store.read("Patient", rid)).resource or {}
    ins = emittable_ins(patient)
    if ins is None:
        await _audit(store, caller, rid, f"$dmp-access target={target}: refused, identity not qualified", refused=True)
        raise RuleViolation("SGL.DMP.05", "the DMP is opened only for a patient whose identity is qualified (INS "
                            "status QUAL): validate the identity and check the INS with INSi first",
                            expression="Patient.extension:identityReliability")
    person, login = await _professional(request, store, caller)
    db, owner = request.app.state.database.db, LaunchOwner(caller.id, rid, target)
    if launch is not None:  # the window opened on the answer's launch URL: that call, not a second one
        kept = await dmp_launch.take(db, launch, owner)
        if kept is None or kept.fields.get("ps") != person.national_id:
            await _audit(store, caller, rid, f"$dmp-access target={target}: refused, stale launch link", refused=True)
            raise Gone("this DMP opening link was already used, has expired or was given to someone else: press the "
                       "DMP button again", expression="launch")
        return _launch_page(kept)
    call = _signed_call(request.app.state.settings, target, ins, person, login)
    await _audit(store, caller, rid, f"$dmp-access target={target} page={call.page} mode={call.mode} "
                 f"ps={person.national_id}", refused=False)
    log.info("DMP web access (%s) to Patient/%s for %s", call.page, rid, caller.id)
    if answer_format == "html":
        return _launch_page(call)
    handle = await dmp_launch.keep(db, call, owner)
    return fhir_response(_answer(call, target, person, rid, f"{base}/Patient/{rid}/$dmp-access?target={target}"
                                 f"&_format=html&launch={handle}"))
