"""THE permission table (SGL.INS.05, SGL.INS.06): resource type x interaction/operation x role.

Every door asks :func:`authorize` and nothing else: the HTTP enforcement below every route
(``enforce.py``), each batch/transaction entry and each ``_include``/``_revinclude`` target (through
the ``AccessCheck`` handed to the interactions), the identity and validation workflows (their
rights are rows of this table, see ``server/identity/roles.py``) and the CLI commands that touch
data. What a row does not grant is refused: a new route or operation without a row is closed.

Interactions: ``read`` (read, vread, search, history, being included), ``create``, ``update``,
``delete``, ``$operation`` names, ``batch``/``transaction`` (system level, each entry checked on its
own), and three rights that are not HTTP interactions: ``ins`` (see the INS: identifier with the
INS OIDs, birth traits, Datamatrix; masked on the way out otherwise), ``unlock`` (edit the strict
traits of a retrieved/qualified identity) and ``feed`` (set the status and INS as the identity source).
"""

from __future__ import annotations

from dataclasses import dataclass

from resources.errors import Forbidden
from server.access.roles import (
    ADMINISTRATEUR,
    AUTOMATE,
    BIOLOGISTE,
    BIOLOGISTE_RESPONSABLE,
    DPI,
    PRELEVEUR,
    ROLES,
    SECRETAIRE,
    SOURCE_IDENTITE,
    SOUS_TRAITANT,
    SYSTEM,
    TECHNICIEN,
)

SYSTEM_LEVEL = "*"
IDENTITY = ("Patient",)
ORDERS = ("ServiceRequest", "Specimen", "Consent", "Task")
RESULTS = ("Observation", "DiagnosticReport")
DOCUMENTS = ("DocumentReference",)
BINARY = ("Binary",)
CATALOGUE = ("CodeSystem", "ValueSet", "ConceptMap", "ObservationDefinition", "ActivityDefinition",
             "SpecimenDefinition")
DIRECTORY = ("Practitioner", "PractitionerRole", "Organization", "Device")
TRAIL = ("AuditEvent", "Provenance")
VISITS = ("Encounter",)

READ, CREATE, UPDATE, DELETE = "read", "create", "update", "delete"
INS, UNLOCK, FEED = "ins", "unlock", "feed"

_CARE = (SECRETAIRE, PRELEVEUR, TECHNICIEN, BIOLOGISTE, BIOLOGISTE_RESPONSABLE)
_BIO = (BIOLOGISTE, BIOLOGISTE_RESPONSABLE)
_DESK = (SECRETAIRE, BIOLOGISTE, BIOLOGISTE_RESPONSABLE)
_BENCH = (TECHNICIEN, BIOLOGISTE, BIOLOGISTE_RESPONSABLE)


@dataclass(frozen=True)
class Row:
    types: tuple[str, ...]
    interactions: tuple[str, ...]
    roles: tuple[str, ...]
    why: str = ""


TABLE: tuple[Row, ...] = (
    Row((SYSTEM_LEVEL,), ("batch", "transaction"), ROLES, "each entry is checked against its own row"),
    Row(("OperationDefinition",), (READ,), ROLES, "what the operations of /metadata take and answer"),
    # identity (SGL.INS.05/06/17): technicians and analyzers read identities with the INS masked
    Row(IDENTITY, (READ,), _CARE + (SOURCE_IDENTITE, DPI)),
    Row(IDENTITY, (CREATE, UPDATE), _DESK + (SOURCE_IDENTITE, DPI)),
    Row(IDENTITY, (DELETE,), (BIOLOGISTE_RESPONSABLE,)),
    Row(IDENTITY, (INS,), (SECRETAIRE, PRELEVEUR, BIOLOGISTE, BIOLOGISTE_RESPONSABLE, SOURCE_IDENTITE, DPI,
                           SOUS_TRAITANT)),
    Row(IDENTITY, ("$insi-search", "$insi-verify", "$insi-verify-all", "$validate-identity", "$duplicates",
                   "$receive-identity"), _DESK),
    Row(IDENTITY, (UNLOCK,), (BIOLOGISTE_RESPONSABLE,), "strict traits of a RECUP/QUAL identity"),
    Row(IDENTITY, (FEED,), (SOURCE_IDENTITE,), "only the trusted identity source sets status and INS"),
    Row(IDENTITY, ("$import-crbio",), _DESK + (SOUS_TRAITANT,)),
    Row(IDENTITY, ("$merge",), _BIO, "merging two identities decides whose results are whose (RNIV)"),
    Row(IDENTITY, ("$identity-label",), _DESK + (PRELEVEUR,), "the INS Datamatrix label of a qualified identity"),
    Row(IDENTITY, ("$identity-document",), _DESK, "the encrypted copy of an identity document (SGL.INS.57)"),
    # orders and specimens
    Row(ORDERS, (READ,), _CARE + (DPI, AUTOMATE)),
    Row(ORDERS, (CREATE, UPDATE), (SECRETAIRE, PRELEVEUR, TECHNICIEN, BIOLOGISTE, BIOLOGISTE_RESPONSABLE, DPI)),
    Row(ORDERS, (DELETE,), (BIOLOGISTE_RESPONSABLE,)),
    Row(("ServiceRequest",), ("$order", "$refusal"), (SECRETAIRE, PRELEVEUR, BIOLOGISTE, BIOLOGISTE_RESPONSABLE,
                                                      DPI)),
    Row(("Specimen",), ("$label",), _CARE),
    # stays and visits (FR Core Encounter): written by the hospital's systems or the desk, read with the orders
    Row(VISITS, (READ,), _CARE + (DPI, SOURCE_IDENTITE)),
    Row(VISITS, (CREATE, UPDATE), _DESK + (DPI, SOURCE_IDENTITE)),
    Row(VISITS, (DELETE,), (BIOLOGISTE_RESPONSABLE,)),
    # results and validation (validation only through its operations: see server/validation/write_rules.py)
    Row(RESULTS, (READ,), _CARE + (DPI,)),
    Row(RESULTS, (CREATE, UPDATE), _BENCH + (AUTOMATE,)),
    Row(RESULTS, (DELETE,), (BIOLOGISTE_RESPONSABLE,)),
    Row(("Observation",), ("$validate-technical", "$rerun"), _BENCH),
    Row(("DiagnosticReport",), ("$validate-biological", "$correct"), _BIO),
    Row(("DiagnosticReport",), ("$withdraw",), _BIO, "taking back a validated report notifies who received it"),
    Row(("DiagnosticReport",), ("$cr-bio",), _DESK + (DPI,), "the CR-Bio carries the INS and its Datamatrix"),
    Row(("DiagnosticReport",), ("$produce-documents",), _BIO, "documents again once a failure's cause is fixed"),
    Row(("DiagnosticReport",), ("$deliveries",), _DESK, "where the CR-Bio went, when, and the partners' answers"),
    Row(("Patient",), ("$deliveries",), _DESK, "the patient's exchanges with partners, identity messages included"),
    Row(("DiagnosticReport",), ("$delivery-retry",), _DESK, "send a failed or cancelled delivery again"),
    Row(("DiagnosticReport",), ("$delivery-cancel",), _BIO, "a document that will not be sent is a biologist's call"),
    Row(IDENTITY, ("$dmp-access",), _BIO, "TD0.9: the DMP web portal on the patient, for the logged-in biologist"),
    Row(("DiagnosticReport",), ("$mssante-send",), _BIO,
        "sending a report by hand (hospital setting, partial report) is a professional's deliberate act"),
    # a critical value's phone call (who was called, read-back, when): documented by who phoned, never rewritten
    Row(("Communication",), (READ,), _CARE),
    Row(("Communication",), (CREATE,), _BENCH, "the critical-value call is documented by who phoned"),
    Row(("Communication",), (UPDATE, DELETE), (), "a documented call is never rewritten"),
    Row(("Communication",), ("$deliveries",), _CARE, "whether a refused tube's notice reached the requester"),
    Row(("Communication",), ("$delivery-retry",), _DESK, "send a notice again once the requester's address is known"),
    # documents: the Binary content (CDA, PDF) carries the INS, so only INS-entitled roles read it
    Row(DOCUMENTS, (READ,), _CARE + (DPI,)),
    Row(BINARY, (READ,), _DESK + (DPI,)),
    Row(DOCUMENTS + BINARY, (CREATE,), _BIO),
    Row(DOCUMENTS + BINARY, (UPDATE, DELETE), (), "documents are replaced (RPLC), never rewritten"),
    # catalogue and LOINC (SGL.LOI.08/09: a coding changes only through $set-loinc / $loinc-import)
    Row(CATALOGUE, (READ,), _CARE + (ADMINISTRATEUR, AUTOMATE, DPI)),
    Row(CATALOGUE, (CREATE,), (BIOLOGISTE_RESPONSABLE, ADMINISTRATEUR)),
    Row(CATALOGUE, (UPDATE,), (BIOLOGISTE_RESPONSABLE, ADMINISTRATEUR),
        "a LOINC coding changes only through $set-loinc / $loinc-import (catalogue write rule)"),
    Row(CATALOGUE, (DELETE,), (ADMINISTRATEUR,)),
    Row(("ObservationDefinition", "ActivityDefinition", "CodeSystem"), ("$set-loinc",), _BIO),
    Row(("ConceptMap",), ("$loinc-import",), _BIO),
    Row(("ConceptMap",), ("$translate",), _CARE + (ADMINISTRATEUR, AUTOMATE, DPI)),
    Row(("CodeSystem",), ("$loinc-export",), _CARE + (ADMINISTRATEUR,)),
    # directory: prescribers, biologists, analyzers
    Row(DIRECTORY, (READ,), _CARE + (ADMINISTRATEUR, DPI, AUTOMATE, SOUS_TRAITANT)),
    Row(DIRECTORY, (CREATE, UPDATE), (SECRETAIRE, BIOLOGISTE_RESPONSABLE, ADMINISTRATEUR)),
    Row(DIRECTORY, (DELETE,), (ADMINISTRATEUR,)),
    Row(("Practitioner", "PractitionerRole", "Organization", "ObservationDefinition"), ("dmp-block",), _BIO,
        "SGL.DMP.02: block or release DMP feeding for every dossier of a prescriber or an analysis"),
    # Annuaire Santé (SGL.ANN.01/04/05): the look-up offered when adding a correspondent, the load's report
    Row(("Practitioner",), ("$mssante-lookup",), (SECRETAIRE, BIOLOGISTE, BIOLOGISTE_RESPONSABLE, ADMINISTRATEUR),
        "offered when adding a correspondent"),
    Row(("Practitioner",), ("$annuaire-status",), (BIOLOGISTE_RESPONSABLE, ADMINISTRATEUR)),
    # portability (SGL.PORT.01): the Bulk Data export of everything, for administrators only
    Row((SYSTEM_LEVEL, "Patient"), ("$export",), (ADMINISTRATEUR,), "the whole store or the patients' data"),
    Row((SYSTEM_LEVEL,), ("$export-status", "$export-file"), (ADMINISTRATEUR,), "only the job's own caller"),
    # the workbench's live worklists: counts only (the lists are read through the API with the caller's rights)
    Row((SYSTEM_LEVEL,), ("$worklist-events",), _CARE, "counts of the worklists, pushed as server-sent events"),
    # delivery dashboards (SGL.TBB.01-03): counts only, no patient data; the lab's management
    Row((SYSTEM_LEVEL,), ("$delivery-dashboard",), (BIOLOGISTE_RESPONSABLE, ADMINISTRATEUR),
        "counts of CR-Bio produced and sent, for the lab's management"),
    # administration (server/admin): local accounts as Person, socket partners as Endpoint; administrators only
    Row(("Person",), (READ,), (ADMINISTRATEUR,), "the local accounts: who logs in, with which role"),
    Row(("Person",), ("$create-account", "$disable", "$enable", "$unlock", "$set-role", "$set-password"),
        (ADMINISTRATEUR,), "the lab always keeps one active administrator"),
    Row(("Endpoint",), (READ,), (ADMINISTRATEUR,), "the socket partners (analyzers, EHRs, identity source)"),
    Row(("Endpoint",), ("$add-partner", "$set-mappings", DELETE), (ADMINISTRATEUR,),
        "who may send HL7/ASTM to the lab, and how its messages are read"),
    Row(("Organization",), ("$lab-profile",), (ADMINISTRATEUR,),
        "the RGPD, Cofrac and autoverification texts printed on every CR-Bio (SGL.DOC.08-10)"),
    # the trail (SGL.INS.17): append-only for every client, written by the server
    Row(TRAIL, (READ,), (SECRETAIRE, BIOLOGISTE, BIOLOGISTE_RESPONSABLE, ADMINISTRATEUR)),
    Row(TRAIL, (CREATE, UPDATE, DELETE), (), "AuditEvent and Provenance are append-only, written by the server"),
)


def _index() -> dict[tuple[str, str], tuple[frozenset[str], str]]:
    out: dict[tuple[str, str], tuple[frozenset[str], str]] = {}
    for row in TABLE:
        for rtype in row.types:
            for interaction in row.interactions:
                roles, why = out.get((rtype, interaction), (frozenset(), ""))
                out[(rtype, interaction)] = (roles | set(row.roles), why or row.why)
    return out


RULES = _index()


def has_rule(resource_type: str, interaction: str) -> bool:
    """Whether the table says anything about this door (a door without a row is a defect)."""
    return (resource_type, interaction) in RULES


def allowed_roles(resource_type: str, interaction: str) -> frozenset[str]:
    return RULES.get((resource_type, interaction), (frozenset(), ""))[0]


def allows(role: str, resource_type: str, interaction: str) -> bool:
    """The table's answer. The server's own steps (``systeme``) are not clients and pass."""
    return role == SYSTEM or role in allowed_roles(resource_type, interaction)


def granted(role: str) -> list[str]:
    """Every ``Type:interaction`` the role holds, sorted: what the web workbench offers that user (the server
    still checks each call against this table)."""
    return sorted(f"{rtype}:{interaction}" for (rtype, interaction), (roles, _) in RULES.items() if role in roles)


def permission_name(resource_type: str, interaction: str) -> str:
    return f"{interaction} on {resource_type}" if resource_type != SYSTEM_LEVEL else interaction


def authorize(role: str, resource_type: str, interaction: str, *, expression: str | None = None) -> None:
    """Raise 403 naming the missing permission and the caller's role, unless the table allows it."""
    if allows(role, resource_type, interaction):
        return
    why = RULES.get((resource_type, interaction), (frozenset(), "no rule grants it"))[1]
    wanted = permission_name(resource_type, interaction)
    raise Forbidden(f"[SGL.INS.05] the role {role!r} lacks the permission {wanted!r}" + (f" ({why})" if why else ""),
                    expression=expression or f"{resource_type}.{interaction}")


def markdown_table() -> str:
    """The table as the README shows it (a test keeps the README in step)."""
    lines = ["| resource types | interactions | roles | note |", "|---|---|---|---|"]
    for row in TABLE:
        lines.append(f"| {', '.join(row.types)} | {', '.join(row.interactions)} | "
                     f"{', '.join(row.roles) or '(nobody)'} | {row.why} |")
    return "\n".join(lines)
