"""The delivery contract: what a channel (DMP, DPI over HL7 v2, MSSanté) implements to plug into the outbox.

Why a small Protocol and frozen dataclasses: the outbox (``server/delivery/``) owns durability (one stored
delivery per channel and recipient, leases, retries with backoff, failure Tasks, ordering per patient and
document); a channel only knows how to talk to its partner. It receives everything it needs as plain data
(no store, no session), answers with one of three outcomes, and never decides about retries itself:

- ``DELIVERED``: the partner holds this version (a repeat send of the same idempotency key must also answer
  ``DELIVERED``: the channel checks the key / XDS uniqueId before resending when its partner allows it);
- ``RETRY``: a transient failure (timeout, connection refused, HTTP 5xx, slow answer): the outbox retries
  with exponential backoff and jitter, then turns the delivery into a failure Task at the retry limit;
- ``FAILED``: a permanent refusal (HL7 AE/AR, RegistryError, SOAP fault on the content): a failure Task at once.

A channel is registered once at import time with :func:`register_channel` (a factory building it from the
server's settings, ``None`` when the channel is not configured, e.g. no ``SGL_DMP_URL``); the outbox asks each
built channel which recipients a stored document version has (:meth:`Channel.recipients`), inside the
transaction that stores the documents, and writes one delivery per answer.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Resource = dict[str, Any]
ReadResource = Callable[[str, str], Awaitable[Resource | None]]
"""``await read("Practitioner", "p1")``: a stored resource or ``None``; inside the storing transaction."""
DeliveredTo = Callable[[str], Awaitable["Sequence[Recipient]"]]
"""``await delivered_to("mssante")``: who that channel delivered a version of the report to, from the outbox's
own history (first delivery first, each recipient once, with the data it was written with); inside the
transaction. A withdrawal goes to them, whoever the dossier names today."""


class Action(enum.StrEnum):
    """What happened to the document that makes this delivery (HL7 OBX-11 F / C / D, DMP RPLC / ITI-57)."""

    PUBLISH = "publish"
    """First version of a report's documents (partial ``preliminary`` or complete ``final``)."""
    REPLACE = "replace"
    """Version n+1 replacing version n (correction, completion of a partial report)."""
    DELETE = "delete"
    """The report was deleted: the partner withdraws what it holds."""
    SETTINGS = "settings"
    """Masking / visibility changed on an already delivered version (DMP ITI-57)."""
    IDENTITY = "identity"
    """A patient merge, identity-status change or trait correction (ADT^A31 / A40 to EHR partners): written by
    ``identity_updates.py`` with the change, not asked of the channels by ``Outbox.record``; ``report_id`` is
    empty, ``document_version`` is the Patient's version, ``extra["merged"]`` names the merged patient."""
    NOTICE = "notice"
    """A message without a document: a refused tube's notice to its requester (a ``Communication``), written by
    ``notices.py`` with the refusal; ``report_id`` is empty, ``extra["notice"]`` names the Communication."""


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class DeliverySettings:
    """The dossier's settings in force when the version was stored (a snapshot: a later change makes a new
    ``SETTINGS`` delivery rather than altering a pending one)."""

    confidentiality: str = "N"
    """``N`` / ``R`` / ``V`` from the report's ``meta.security`` (the document's confidentialityCode)."""
    masked_to_professionals: bool = False
    """DMP ``MASQUE_PS``."""
    invisible_to_patient: bool = False
    """DMP ``INVISIBLE_PATIENT``."""
    invisible_to_legal_representatives: bool = False
    """DMP ``INVISIBLE_REPRESENTANTS_LEGAUX``."""
    blocked: bool = False
    """Sending blocked for this dossier / prescriber / analysis (DMP.02): the delivery is stored as blocked."""
    blocked_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeliverySettings:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class DeliveryItem:
    """One stored delivery, as the worker hands it to the channel."""

    id: str
    idempotency_key: str
    """Stable across retries and restarts: ``<channel>:<recipient>:<report>:v<version>:<action>``."""
    channel: str
    recipient: str
    """The channel's own name for the addressee: a partner name (DPI), ``dmp``, an MSSanté address."""
    action: Action
    report_id: str
    document_version: int
    """The document version this delivery carries (for ``DELETE``: the last version delivered)."""
    patient_id: str
    settings: DeliverySettings
    attempt: int = 1
    """1 for the first try; more than 1 when an earlier try may have reached the partner (a recorded attempt, or
    one cut short by a crash: ``loading.tried``). The channel may check before resending; the outbox decides
    what follows."""
    author: str | None = None
    """Who validated (``Practitioner/<id>``) or ``None`` for the lab's automatic identity (AUTOMATE, VIHF)."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Channel-specific data fixed when the delivery was written (e.g. the merged patient id for ``IDENTITY``)."""


@dataclass(frozen=True)
class StoredDocument:
    """One format of the CR-Bio version as stored (``Binary`` + ``DocumentReference``)."""

    format: str
    """``n3`` / ``n1`` / ``pdf``."""
    content: bytes
    content_type: str
    binary_id: str
    document_reference_id: str
    unique_id: str | None
    """The CDA id (``<oid root>.<report>.<version>``: the XDS uniqueId); ``None`` for the PDF."""
    set_id: str | None
    version: int


@dataclass(frozen=True)
class Notice:
    """What a ``NOTICE`` delivery says and where it goes (``notices.py``)."""

    communication: Resource
    specimen: Resource
    address: str | None
    """The recipient's MSSanté address: the one written with the delivery, else the directory's now (an
    address added since a "no address" delivery, then retried)."""


@dataclass(frozen=True)
class DocumentSet:
    """Everything a channel may put in its message, read back from the store after the documents commit."""

    report: Resource
    patient: Resource
    results: Sequence[Resource]
    """The report's ``Observation``s as stored (for the structured OBX of an ORU^R01)."""
    documents: Mapping[str, StoredDocument]
    """By format: ``n3``, ``n1``, ``pdf`` (empty for ``DELETE`` of a report whose documents are gone)."""
    previous: Mapping[str, StoredDocument] = field(default_factory=dict)
    """The version replaced (``REPLACE``) or withdrawn (``DELETE``), by format; empty for a first version."""
    merged_patient: Resource | None = None
    """``IDENTITY`` of a merge: the Patient merged into ``patient`` (its identifiers go to MRG-1)."""
    notice: Notice | None = None
    """``NOTICE``: the message to send, read back from the store."""


@dataclass(frozen=True)
class ChannelAnswer:
    outcome: Outcome
    text: str = ""
    """The partner's own words (ACK MSA-3 / ERR, RegistryErrorList, HTTP status and body excerpt): kept as is."""
    remote_id: str | None = None
    """The partner's id for what it stored (message control id acknowledged, XDS entryUUID), when it gives one."""
    detail: Mapping[str, Any] = field(default_factory=dict)
    trust_refused: bool = False
    """With ``RETRY``: the TLS refusal is about a certificate (the partner's not trusted, a name mismatch, ours
    refused). Retrying does not heal it, so the outbox tells a person at once (one Task) and keeps retrying: the
    administrator may fix the trust store or the certificate meanwhile."""


@dataclass(frozen=True)
class Recipient:
    name: str
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentEvent:
    """What the outbox asks a channel about when a version is stored (inside that transaction)."""

    action: Action
    report: Resource
    patient: Resource
    settings: DeliverySettings
    read: ReadResource
    delivered_to: DeliveredTo | None = None
    """Set by the outbox; ``None`` (nobody received anything) when a caller has no history to give."""


@runtime_checkable
class Channel(Protocol):
    name: str
    """Unique, lower case (``dmp``, ``hl7v2``, ``mssante``): stored on every delivery."""

    async def recipients(self, event: DocumentEvent) -> Sequence[Recipient]:
        """Who gets this version by this channel (empty: nobody); no network here, the transaction is open."""
        ...

    async def send(self, item: DeliveryItem, documents: DocumentSet) -> ChannelAnswer:
        """Deliver once; never raise for a partner's answer (map it); an exception counts as ``RETRY``."""
        ...


ChannelFactory = Callable[[Any], "Channel | None"]
"""Builds the channel from the server's ``AppContext`` (typed ``Any``: the contract imports nothing of the server)."""
_FACTORIES: dict[str, ChannelFactory] = {}


def register_channel(name: str, factory: ChannelFactory) -> None:
    """Declare a channel (call at import of the channel's module; ``server/delivery/channels.py`` imports them)."""
    if name in _FACTORIES and _FACTORIES[name] is not factory:
        raise ValueError(f"delivery channel {name!r} registered twice")
    _FACTORIES[name] = factory


def registered_channels() -> dict[str, ChannelFactory]:
    return dict(_FACTORIES)


def build_channels(context: Any) -> list[Channel]:
    """The configured channels, in registration order (each factory returns ``None`` when not configured)."""
    built = (factory(context) for factory in _FACTORIES.values())
    return [channel for channel in built if channel is not None]
