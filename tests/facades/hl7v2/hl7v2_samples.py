"""Paths of the ANS HL7 v2 example messages and small messages built for the tests."""

from pathlib import Path

KITS = Path(__file__).resolve().parents[3].parent / "shared" / "kits"
ADMISSION = KITS / "ans-hl7v2-examples" / "SGL" / "admission.er7"
ANS_EXAMPLES = sorted(
    p for p in KITS.glob("**/*") if p.is_file() and p.suffix.lower() in (".er7", ".hl7", "")
    and ("ans-hl7v2-examples" in p.parts or "pam-fr" in p.parts)
)


def adt(control_id: str = "MSG0001", *, pid5: str = "PAT-TROIS^DOMINIQUE^DOMINIQUE^^^^L") -> bytes:
    """A small PAM-FR style ADT^A01 with CR separators."""
    return (
        "MSH|^~\\&|GAM|CHU-X|SGL|LABO|20240306111154||ADT^A01^ADT_A01|" + control_id
        + "|P|2.5^FRA^2.11|||||FRA|UNICODE UTF-8|FR||2.11^IHE_FRANCE-2.11-PAM\r"
        "EVN||20240306111154\r"
        "PID|1||000003^^^CHU-X&000897406&N^PI||" + pid5 + "||19790328|F\r"
    ).encode("utf-8")
