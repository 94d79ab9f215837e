"""Identifiers of IHE XDS.b (ITI TF-3 §4.2) and of the DMP's value sets used by the metadata.

Classification-scheme and external-identifier UUIDs are the IHE ones; the codes and OIDs of the
CR-Bio come from the ANS value sets JDV_J10 (formatCode), JDV_J07/J57 (type/class), JDV_J58
(confidentiality: ``1.2.250.1.213.1.1.4.13``), JDV_J61 (sector ``1.2.250.1.71.4.2.4``) and
TRE_A01 (practice setting), as summarised in ``shared/reference/transports-and-dependencies.md`` A1.
"""

from __future__ import annotations

# Namespaces
SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
XDSB = "urn:ihe:iti:xds-b:2007"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
XOP = "http://www.w3.org/2004/08/xop/include"
DS = "http://www.w3.org/2000/09/xmldsig#"

# SOAP actions and service paths (appended to the DMP base URL)
ACTION_ITI41 = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
ACTION_ITI41_RESPONSE = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"
ACTION_ITI57 = "urn:ihe:iti:2010:UpdateDocumentSet"
ACTION_ITI57_RESPONSE = "urn:ihe:iti:2010:UpdateDocumentSetResponse"
ACTION_ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ACTION_ITI18_RESPONSE = "urn:ihe:iti:2007:RegistryStoredQueryResponse"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
REPOSITORY = "/repository"
REGISTRY = "/registry"

# ebRIM object types and classification schemes
DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
DE_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
DE_CLASS = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
DE_CONFIDENTIALITY = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
DE_EVENT = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
DE_FORMAT = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
DE_FACILITY = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
DE_PRACTICE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
DE_TYPE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
DE_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
DE_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SS_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
SS_CONTENT_TYPE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
SS_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
SS_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SS_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"

# Associations and statuses
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
UPDATE_AVAILABILITY = "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
SEVERITY_ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"

# CR-Bio document codes (code, scheme OID, display name)
LOINC = "2.16.840.1.113883.6.1"
TYPE_CR_BIO = ("11502-2", LOINC, "CR d'examens biologiques")
CLASS_CR_BIO = ("10", "1.2.250.1.213.1.1.4.1", "Compte rendu")
FORMAT_N3 = ("urn:ihe:lab:xd-lab:2008", "1.3.6.1.4.1.19376.1.2.3",
             "CR d'examens biologiques (structuré)")
FORMAT_N1 = ("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3", "Document à corps non structuré en PDF/A-1")
CONFIDENTIALITY_SYSTEM = "1.2.250.1.213.1.1.4.13"
NORMAL = ("N", "2.16.840.1.113883.5.25", "Normal")
MASQUE_PS = "MASQUE_PS"
INVISIBLE_PATIENT = "INVISIBLE_PATIENT"
INVISIBLE_REPRESENTANTS_LEGAUX = "INVISIBLE_REPRESENTANTS_LEGAUX"
SECTOR_SYSTEM = "1.2.250.1.71.4.2.4"
PRACTICE_SYSTEM = "1.2.250.1.213.1.1.4.9"
CONTENT_TYPE_SYSTEM = "1.2.250.1.213.2.2"  # TRE_R209-TypeActivite (JDV_J59), as the MSSanté XDM

# The XAdES signature of the submission set travels as one more DocumentEntry
SIGNATURE_CLASS = ("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "URN", "Digital Signature")
SIGNATURE_TYPE = ("E1762", "ASTM", "Full Document")
SIGNATURE_FORMAT = ("http://www.w3.org/2000/09/xmldsig#", "URN", "Default Signature Style")
SIGNATURE_EVENT = ("1.2.840.10065.1.12.1.14", "1.2.840.10065.1.12", "Source")

# Registry error codes (ITI TF-3 Table 4.2.4.1-2) that a later resend may cure
TRANSIENT_ERRORS = frozenset({
    "XDSRegistryBusy", "XDSRepositoryBusy", "XDSRegistryOutOfResources", "XDSRepositoryOutOfResources",
    "XDSRegistryNotAvailable", "XDSRegistryError", "XDSRepositoryError",
})
DUPLICATE_UNIQUE_ID = "XDSDuplicateUniqueIdInRegistry"
