"""PAM-FR messages for the identity-feed tests: the ANS SGL templates and variants of their PID."""

from __future__ import annotations

from pathlib import Path

KITS = Path("/work/shared/kits")
ADMISSION = KITS / "ans-hl7v2-examples" / "SGL" / "admission.er7"
DISCHARGE = KITS / "ans-hl7v2-examples" / "SGL" / "sortie.er7"
PAM_FR_CONSENT = sorted((KITS / "pam-fr").glob("PAMFR_*.er7"))

INS = "279035121518989"
INS_OID = "1.2.250.1.213.1.4.10"
IPP_SYSTEM = "urn:oid:000897406"
INS_CX = f"{INS}^^^ASIP-SANTE-INS-NIR&{INS_OID}&ISO^INS^^20101207"
NAMES = "PAT-TROIS^DOMINIQUE^DOMINIQUE^^^^L"
PLACES = "28 Av de Breteuil^^PARIS^^75007^FRA^H^^^^^^^~^^^^^^BDL^^63220"


def template(path: Path, control_id: str, *, ipp: str | None = None) -> str:
    """An ANS template with its MSH-10 replaced (and its IPP, to keep tests apart), CR-separated."""
    text = path.read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\n", "\r")
    lines = text.rstrip("\r").split("\r")
    msh = lines[0].split("|")
    msh[9] = control_id
    lines[0] = "|".join(msh)
    out = "\r".join(lines) + "\r"
    return out.replace("000003^^^CHU-X", f"{ipp}^^^CHU-X") if ipp else out


def pid(ipp: str = "000003", *, ins: str | None = INS_CX, pid32: str = "VALI", names: str = NAMES,
        birth_date: str = "19790328", sex: str = "F", places: str = PLACES) -> str:
    cx = f"{ipp}^^^CHU-X&000897406&N^PI" + (f"~{ins}" if ins else "")
    fields = ["PID", "1", "", cx, "", names, "", birth_date, sex, "", "", places] + [""] * 18 + ["N", "", pid32]
    return "|".join(fields)


def adt(event: str, control_id: str, pid_segment: str, *extra: str) -> str:
    """An ADT message of ``event`` (A28, A31, A40...) around a PID and extra segments (MRG, ZFD...)."""
    structure = {"A40": "ADT_A39", "A47": "ADT_A30", "A28": "ADT_A05", "A31": "ADT_A05"}.get(event, f"ADT_{event}")
    msh = (f"MSH|^~\\&|GAM|CHU-X|SGL|LABO|20240306111154||ADT^{event}^{structure}|{control_id}|P|2.5^FRA^2.11"
           "|||||FRA|UNICODE UTF-8|FR||2.11^IHE_FRANCE-2.11-PAM")
    return "\r".join([msh, "EVN||20240306111154", pid_segment, *extra]) + "\r"
