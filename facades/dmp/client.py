"""The DMP client: ITI-41 (new version, replacement) and ITI-57 (deletion, archiving) over mutual TLS.

The same code talks to the real DMP (``https://<env>.lps2.dmp.gouv.fr/si-dmp-server/v2/services``)
and to ``sgl dmp-simulator``: HTTPS with the structure's authentication certificate (``ssl_context``),
a signed VIHF in every request, the submission set signed with XAdES (both with the seal
certificate). Every answer ends as a :class:`Receipt` or a :class:`facades.dmp.errors.DmpError`
whose ``permanent`` flag tells the outbox whether to retry. Logs name the transaction, the
document uniqueIds and the outcome, never the INS.
"""

from __future__ import annotations

import logging
import ssl
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import httpx

from facades.dmp import codes, envelope, metadata, mtom, query, xades
from facades.dmp.errors import DmpAnswerUnreadable, DmpRequestInvalid, DmpUnreachable
from facades.dmp.model import Receipt, Software, Submission, VihfSubject, entry_uuid
from facades.dmp.query import FoundEntry
from facades.dmp.response import Answer, read_response
from facades.dmp.vihf import build_vihf
from facades.xmlsig import Seal
from resources.transport import certificate_refused, closed_before_answer, is_trust_refusal, transport_reason

log = logging.getLogger(__name__)


def client_ssl_context(certfile: Path, keyfile: Path, cafile: Path) -> ssl.SSLContext:
    """TLS 1.2+ presenting the structure's certificate and trusting only ``cafile``."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(cafile))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(certfile), str(keyfile))
    return context


def new_oid() -> str:
    """A fresh OID under the UUID arc (ITU-T X.667), for submission sets and signatures."""
    return f"2.25.{uuid.uuid4().int}"


def _check(submission: Submission) -> None:
    if not submission.ins or not submission.ins_oid:
        raise DmpRequestInvalid("no qualified INS: the DMP is fed only for a qualified identity",
                                expression="Submission.ins")
    for doc in submission.documents:
        if not doc.content or not doc.unique_id:
            raise DmpRequestInvalid(f"document {doc.kind.value} has no content or no uniqueId",
                                    expression=f"Submission.documents[{doc.kind.value}]")


def provide_request(submission: Submission, sender: VihfSubject, software: Software, seal: Seal,
                    url: str) -> tuple[str, envelope.Outgoing]:
    """The ITI-41 request (and its submission set uniqueId): documents, XAdES signature entry, signed VIHF."""
    _check(submission)
    now = datetime.now(UTC)
    set_uid = new_oid()
    entries = metadata.document_entries(submission)
    signature = xades.sign_submission(set_uid, {e.unique_id: e.content for e in entries}, seal)
    entries.append(metadata.signature_entry(new_oid(), signature, now))
    assertion = build_vihf(sender, submission, software, seal, now)
    return set_uid, envelope.provide_and_register(submission, entries, set_uid, assertion, url, now)


class DmpClient:
    """One DMP endpoint (``base_url`` without the service suffix), shared by every delivery of a process."""

    def __init__(self, base_url: str, ssl_context: ssl.SSLContext, software: Software, seal: Seal, *,
                 timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.software = software
        self.seal = seal
        self._ssl_context = ssl_context
        self._http = httpx.AsyncClient(verify=ssl_context, timeout=timeout, transport=transport)

    async def __aenter__(self) -> DmpClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def provide(self, submission: Submission, sender: VihfSubject) -> Receipt:
        """ITI-41: register the submission's documents (with RPLC for those that replace a version)."""
        if not submission.documents:
            raise DmpRequestInvalid("nothing to send", expression="Submission.documents")
        url = self.base_url + codes.REPOSITORY
        set_uid, request = provide_request(submission, sender, self.software, self.seal, url)
        answer = await self._exchange(url, request, "ITI-41", [d.unique_id for d in submission.documents])
        return Receipt(set_uid, {d.unique_id: entry_uuid(d.unique_id) for d in submission.documents},
                       already_registered=answer.duplicates)

    async def update_status(self, submission: Submission, unique_ids: list[str], new_status: str,
                            sender: VihfSubject, *, original: str = codes.APPROVED) -> Receipt:
        """ITI-57: logical deletion (:data:`codes.DELETED`) or archiving (:data:`codes.ARCHIVED`) of entries."""
        _check(submission)
        now = datetime.now(UTC)
        set_uid = new_oid()
        assertion = build_vihf(sender, submission, self.software, self.seal, now)
        url = self.base_url + codes.REGISTRY
        request = envelope.update_availability(submission, unique_ids, original, new_status, set_uid, assertion, url,
                                               now)
        await self._exchange(url, request, "ITI-57", unique_ids)
        return Receipt(set_uid, {unique_id: entry_uuid(unique_id) for unique_id in unique_ids})

    async def update_visibility(self, submission: Submission, sender: VihfSubject, *,
                                previous_version: str = "1") -> Receipt:
        """ITI-57: new metadata version of the submission's documents with its current visibility settings
        (masking to professionals, visibility to the patient / legal representatives: SGL.DOC.15, DMP.03)."""
        _check(submission)
        now = datetime.now(UTC)
        set_uid = new_oid()
        assertion = build_vihf(sender, submission, self.software, self.seal, now)
        url = self.base_url + codes.REGISTRY
        request = envelope.update_metadata(submission, previous_version, set_uid, assertion, url, now)
        await self._exchange(url, request, "ITI-57", [d.unique_id for d in submission.documents])
        return Receipt(set_uid, {d.unique_id: entry_uuid(d.unique_id) for d in submission.documents})

    async def get_documents(self, submission: Submission, sender: VihfSubject) -> tuple[FoundEntry, ...]:
        """ITI-18 GetDocuments: the entries the DMP holds of the submission's documents (status, metadata such as
        the confidentialityCodes). The outbox asks before resending a try that may have reached the DMP."""
        _check(submission)
        assertion = build_vihf(sender, submission, self.software, self.seal, datetime.now(UTC))
        url = self.base_url + codes.REGISTRY
        unique_ids = [d.unique_id for d in submission.documents]
        request = envelope.stored_query(query.get_documents(unique_ids), assertion, url)
        return (await self._exchange(url, request, "ITI-18", unique_ids)).entries

    async def find_documents(self, patient: Submission, sender: VihfSubject, *,
                             statuses: tuple[str, ...] = (codes.APPROVED,),
                             format_codes: tuple[str, ...] = ()) -> tuple[FoundEntry, ...]:
        """ITI-18 FindDocuments: the entries the DMP holds for ``patient``'s INS (its ``documents`` are not
        used) in ``statuses``, optionally of ``format_codes`` (``code^^scheme``)."""
        _check(patient)
        assertion = build_vihf(sender, patient, self.software, self.seal, datetime.now(UTC))
        url = self.base_url + codes.REGISTRY
        request = envelope.stored_query(query.find_documents(patient.patient_id, statuses, format_codes), assertion,
                                        url)
        return (await self._exchange(url, request, "ITI-18", [])).entries

    async def _exchange(self, url: str, request: envelope.Outgoing, name: str, unique_ids: list[str]) -> Answer:
        try:
            response = await self._http.post(url, content=request.body,
                                             headers={"Content-Type": request.content_type})
        except httpx.TransportError as exc:
            log.info("DMP %s %s: unreachable (%s)", name, unique_ids, type(exc).__name__)
            reason, trust = transport_reason(exc), is_trust_refusal(exc)
            if not trust and closed_before_answer(exc):  # TLS 1.3: a refused client certificate looks like this
                target = httpx.URL(url)
                refused = await certificate_refused(target.host, target.port or 443, self._ssl_context)
                reason, trust = (f"{refused} ({reason})", True) if refused else (reason, False)
            raise DmpUnreachable(f"DMP at {url} unreachable: {reason}", expression=url,
                                 trust_refused=trust) from exc
        content_type = response.headers.get("content-type", "")
        is_soap = any(t in content_type for t in ("soap+xml", "xop+xml", "multipart/related", "text/xml"))
        if response.status_code >= 400 and not is_soap:
            log.info("DMP %s %s: HTTP %s", name, unique_ids, response.status_code)
            raise DmpUnreachable(f"DMP at {url} answered HTTP {response.status_code}", expression=url)
        try:
            message = mtom.split(content_type, response.content)
        except mtom.MtomUnreadable as exc:
            raise DmpAnswerUnreadable(f"the DMP answer cannot be read: {exc}") from exc
        try:
            answer = read_response(message.envelope)
        except Exception as exc:
            log.info("DMP %s %s: %s", name, unique_ids, type(exc).__name__)
            raise
        log.info("DMP %s %s: success%s", name, unique_ids, " (already registered)" if answer.duplicates else "")
        return answer
