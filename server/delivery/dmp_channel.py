"""The ``dmp`` channel: each CR-Bio version of a patient with a qualified INS to the DMP (SGL.DMP.01–04,
DOC.15, DOC.16) through the production client of ``facades/dmp``.

- ``PUBLISH`` (partial or complete) and ``REPLACE`` (correction, completion: RPLC to the version before) =
  ITI-41 with the N3 and the N1; ``DELETE`` = ITI-57 logical deletion of the last version's N3 and N1;
  ``SETTINGS`` = ITI-57 new metadata version with the dossier's masking / visibility.
- confidentialityCode from the settings in force when the version was stored (MASQUE_PS, INVISIBLE_PATIENT,
  INVISIBLE_REPRESENTANTS_LEGAUX); a report whose DMP feeding is blocked (dossier, prescriber or analysis:
  DMP.02, ``dmp_blocking.py``) gets its DMP delivery written ``blocked`` by the outbox, sent only once a person
  releases it (only the DMP is blocked, not the other channels). A patient who refused DMP feeding of the
  dossier (``$refusal`` channel ``dmp``, a Consent) gets no DMP delivery at all.
- The VIHF names the validating biologist (``item.author``) or, for automatic sending, the lab's ``AUTOMATE``
  identity under the responsible biologist; the documents' author is the validating biologist, else the
  responsible one.
- At most one ITI-18 GetDocuments per attempt: before a second try it asks whether the first one got through
  (held; deleted for a deletion; carrying the confidentialityCodes asked for a masking change: then ``DELIVERED``
  without resending; a kill -9 mid-try counts as a try, ``loading.tried``), and for a replacement, in the same
  query, whether the DMP holds the version replaced (an RPLC of an entry it does not hold is refused).
- Answers: success, or a resend the DMP recognises (same uniqueIds) = ``DELIVERED`` (remote id: the N3's
  entryUUID); a permanent RegistryError or SOAP Sender fault = ``FAILED`` with the registry's words; busy,
  unreachable, unreadable = ``RETRY``. No qualified INS at send time = ``FAILED`` (nothing leaves: SGL.INS.37).

Configured by ``SGL_DMP_URL`` (base URL, services ``/repository`` and ``/registry`` appended),
``SGL_DMP_CERT`` / ``SGL_DMP_KEY`` (the structure's authentication certificate, also the seal unless
``SGL_DMP_SEAL_CERT`` / ``SGL_DMP_SEAL_KEY``), ``SGL_DMP_CA``; unset URL: no DMP channel.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from facades.dmp import (
    DmpClient,
    DmpError,
    DmpUnreachable,
    Document,
    Kind,
    Person,
    Seal,
    Software,
    Structure,
    Submission,
    VihfSubject,
    Visibility,
    client_ssl_context,
    entry_uuid,
)
from facades.dmp.codes import APPROVED, DELETED
from facades.dmp.query import FoundEntry
from resources.errors import SglError
from resources.ins import emittable_ins
from resources.store.base import FhirStore
from server.delivery.channel import (
    Action,
    ChannelAnswer,
    DeliveryItem,
    DocumentEvent,
    DocumentSet,
    Outcome,
    Recipient,
    StoredDocument,
    register_channel,
)
from server.orders.refusals import refused_channels
from server.settings import Settings

NAME = "dmp"
Refusals = Callable[[str], Awaitable[set[str]]]
"""``await refusals(service_request_id)``: the channels the patient refused for that dossier (committed Consents)."""
SENT = (Action.PUBLISH, Action.REPLACE, Action.DELETE, Action.SETTINGS)  # identity changes: not the DMP's
RESENDABLE = (Action.PUBLISH, Action.REPLACE, Action.DELETE, Action.SETTINGS)
"""Actions whose later tries first ask the DMP (ITI-18) whether an earlier try got through (a second ITI-57 of a
deleted entry, or with a PreviousVersion the first try already superseded, is refused)."""
SHIPPED_PROFILE = Path(__file__).resolve().parents[1] / "documents" / "lab_profile.json"
RPPS_SYSTEMS = ("urn:oid:1.2.250.1.71.4.2.1", "https://rpps.esante.gouv.fr")
KINDS = {"n3": Kind.N3, "n1": Kind.N1}
TITLES = {"n3": "CR d'examens biologiques", "n1": "CR d'examens biologiques (PDF)"}


def _practitioner_person(practitioner: dict[str, Any] | None) -> dict[str, str] | None:
    """National id (``8`` + RPPS form as stored), family and given names of a Practitioner with an RPPS."""
    if not practitioner:
        return None
    rpps = next((str(i.get("value")) for i in practitioner.get("identifier", ())
                 if i.get("system") in RPPS_SYSTEMS and i.get("value")), None)
    if rpps is None:
        return None
    name = (practitioner.get("name") or [{}])[0]
    return {"id": rpps if len(rpps) == 12 else "8" + rpps, "family": str(name.get("family", "")),
            "given": " ".join(name.get("given", ()))}


def lab_identity(path: Path | None) -> dict[str, Any]:
    """Name, FINESS and responsible biologist from the lab profile JSON (``SGL_LAB_PROFILE``, else the shipped one).

    Read here rather than through ``server.documents``, which writes deliveries and so may not be imported by
    ``server.delivery`` (no import circle); the documents step has already refused a profile that lacks them."""
    where = path or SHIPPED_PROFILE
    data: dict[str, Any] = json.loads(where.read_text(encoding="utf-8"))
    return data


def _created(report: dict[str, Any]) -> datetime:
    for key in ("issued", "effectiveDateTime"):
        if report.get(key):
            try:
                return datetime.fromisoformat(str(report[key]).replace("Z", "+00:00"))
            except ValueError:
                continue
    return datetime.now(UTC)


def _done(action: Action, submission: Submission, held: FoundEntry) -> bool:
    """Whether an entry the DMP holds shows this action already done: held (a document sent), deleted (a
    deletion), carrying the confidentialityCodes asked (a masking change)."""
    if action == Action.DELETE:
        return held.status == DELETED
    if action == Action.SETTINGS:
        return set(held.confidentiality) == {code for code, _, _ in submission.visibility.confidentiality()}
    return True


class DmpChannel:
    name = NAME

    def __init__(self, client: DmpClient, structure: Structure, responsible: Person, automate_id: str,
                 refusals: Refusals | None = None) -> None:
        self.client, self.structure, self.responsible, self.automate_id = client, structure, responsible, automate_id
        self.refusals = refusals

    async def recipients(self, event: DocumentEvent) -> Sequence[Recipient]:
        """The DMP for a patient with a qualified INS; the validating biologist kept for the VIHF and author."""
        if event.action not in SENT or emittable_ins(event.patient) is None:
            return []
        if event.action in (Action.PUBLISH, Action.REPLACE) and await self._refused(event.report):
            return []  # the patient refused DMP feeding of this dossier (SGL.DMP.02, a Consent): nothing is sent
        extra: dict[str, Any] = {}
        for ref in event.report.get("resultsInterpreter", ()):
            kind, _, rid = str(ref.get("reference", "")).partition("/")
            if kind == "Practitioner":
                person = _practitioner_person(await event.read(kind, rid))
                if person is not None:
                    extra["biologist"] = person
                    break
        return [Recipient(NAME, extra)]

    async def _refused(self, report: dict[str, Any]) -> bool:
        for based in report.get("basedOn", ()):
            kind, _, rid = str(based.get("reference", "")).partition("/")
            if kind == "ServiceRequest" and self.refusals is not None and "dmp" in await self.refusals(rid):
                return True
        return False

    def _submission(self, item: DeliveryItem, documents: DocumentSet, source: dict[str, StoredDocument],
                    author: Person) -> Submission | str:
        ins = emittable_ins(documents.patient)
        if ins is None:
            return "the patient has no qualified INS any more: nothing is sent to the DMP (SGL.INS.37)"
        created = _created(documents.report)
        docs = []
        for fmt, kind in KINDS.items():
            stored = source.get(fmt)
            if stored is None or not stored.unique_id:
                return f"no stored {fmt.upper()} for version {item.document_version}"
            previous = documents.previous.get(fmt) if item.action == Action.REPLACE else None
            docs.append(Document(kind, stored.unique_id, stored.content, TITLES[fmt], created, created,
                                 replaces=previous.unique_id if previous is not None else None))
        settings = item.settings
        visibility = Visibility(settings.masked_to_professionals, settings.invisible_to_patient,
                                settings.invisible_to_legal_representatives)
        return Submission(str(ins["value"]), str(ins["system"]).removeprefix("urn:oid:"), tuple(docs), author,
                          self.structure, visibility)

    async def _held(self, item: DeliveryItem, submission: Submission, sender: VihfSubject) -> dict[str, FoundEntry]:
        """What the DMP holds of the entries this attempt needs to know about (uniqueId -> entry), in ONE ITI-18.

        A later try asks about its own documents (did an earlier try get through?); a replacement asks about the
        versions it replaces (may they be RPLC'd?). A retried replacement asks both in the same GetDocuments
        rather than one query each. Nothing to ask: no query, an empty answer."""
        asked = [d.unique_id for d in submission.documents] if item.attempt > 1 and item.action in RESENDABLE else []
        if item.action == Action.REPLACE:
            asked += [d.replaces for d in submission.documents if d.replaces]
        if not asked:
            return {}
        documents = tuple(replace(submission.documents[0], unique_id=u, replaces=None) for u in dict.fromkeys(asked))
        return {e.unique_id: e for e in await self.client.get_documents(replace(submission, documents=documents),
                                                                         sender)}

    @staticmethod
    def _replacing_what_is_held(submission: Submission, held: dict[str, FoundEntry]) -> tuple[Submission, str]:
        """The replacement as the DMP can take it: RPLC only of an entry it holds approved (``held``, from ITI-18).

        The version replaced may never have reached the DMP (its feeding was blocked, its delivery cancelled or
        refused there): an RPLC of an entry the registry does not hold is refused (UnresolvedReferenceException),
        so that version's successor goes as a new document, and the answer says so."""
        kept = tuple(d if d.replaces is None or d.replaces in held and held[d.replaces].status == APPROVED
                     else replace(d, replaces=None) for d in submission.documents)
        if kept == submission.documents:
            return submission, ""
        return (replace(submission, documents=kept),
                " (sent as a new document: the DMP did not hold the version it replaces)")

    async def send(self, item: DeliveryItem, documents: DocumentSet) -> ChannelAnswer:
        biologist = item.extra.get("biologist")
        author = Person(biologist["id"], biologist["family"], biologist["given"]) if biologist else self.responsible
        sender = VihfSubject.professional(author, authn_class="urn:oasis:names:tc:SAML:2.0:ac:classes:"
                                          "PasswordProtectedTransport") if item.author and biologist else \
            VihfSubject.automate(self.automate_id or author.national_id,
                                 f"{self.client.software.name}, envoi automatique, {self.structure.name}")
        source = documents.previous if item.action == Action.DELETE else documents.documents
        submission = self._submission(item, documents, dict(source), author)
        if isinstance(submission, str):
            return ChannelAnswer(Outcome.FAILED, submission)
        try:
            held = await self._held(item, submission, sender)
            if item.attempt > 1 and item.action in RESENDABLE:  # did an earlier try get through?
                found = {d.unique_id: held[d.unique_id] for d in submission.documents if d.unique_id in held}
                if len(found) == len(submission.documents) and all(_done(item.action, submission, e)
                                                                   for e in found.values()):
                    return ChannelAnswer(Outcome.DELIVERED, "already in the DMP (ITI-18 before resending)",
                                         entry_uuid(submission.documents[0].unique_id),
                                         {"found": {u: e.status for u, e in found.items()}})
            note = ""
            if item.action == Action.REPLACE:
                submission, note = self._replacing_what_is_held(submission, held)
            if item.action in (Action.PUBLISH, Action.REPLACE):
                receipt = await self.client.provide(submission, sender)
            elif item.action == Action.DELETE:
                receipt = await self.client.update_status(submission, [d.unique_id for d in submission.documents],
                                                          DELETED, sender)
            elif item.action == Action.SETTINGS:
                version = str(item.extra.get("metadata_version", "1"))
                receipt = await self.client.update_visibility(submission, sender, previous_version=version)
            else:
                return ChannelAnswer(Outcome.DELIVERED, f"nothing to send to the DMP for {item.action.value}")
        except SglError as exc:
            permanent = exc.permanent if isinstance(exc, DmpError) else True
            errors = [str(e) for e in exc.errors] if isinstance(exc, DmpError) else []
            return ChannelAnswer(Outcome.FAILED if permanent else Outcome.RETRY, exc.diagnostics,
                                 detail={"registryErrors": errors},
                                 trust_refused=isinstance(exc, DmpUnreachable) and exc.trust_refused)
        n3 = submission.documents[0].unique_id
        text = ("already registered (resend recognised)" if receipt.already_registered else "Success") + note
        return ChannelAnswer(Outcome.DELIVERED, text, entry_uuid(n3),
                             {"submissionSet": receipt.submission_set, "entries": dict(receipt.entries)})


def build(context: Any) -> DmpChannel | None:
    settings: Settings = context.settings
    if not settings.dmp_url or not settings.dmp_cert or not settings.dmp_key or not settings.dmp_ca:
        return None
    lab = lab_identity(settings.lab_profile)
    seal = Seal.from_files(settings.dmp_seal_cert or settings.dmp_cert, settings.dmp_seal_key or settings.dmp_key)
    software = Software("OpenSGL", "0.1.0", settings.dmp_lps_id, settings.dmp_homologation)
    client = DmpClient(settings.dmp_url, client_ssl_context(settings.dmp_cert, settings.dmp_key, settings.dmp_ca),
                       software, seal, timeout=settings.dmp_timeout)
    structure = Structure(settings.dmp_structure_id or "3" + str(lab["finess"]), str(lab["name"]))
    bio = lab.get("responsible_biologist") or {}
    responsible = Person(str(bio.get("rpps", "")), str(bio.get("family", "")), str(bio.get("given", "")))
    store: FhirStore | None = getattr(context, "store", None)  # None: a channel built without a store

    async def refusals(service_request: str) -> set[str]:
        return await refused_channels(store, service_request) if store is not None else set()

    return DmpChannel(client, structure, responsible, settings.dmp_automate_id, refusals)


register_channel(NAME, build)
