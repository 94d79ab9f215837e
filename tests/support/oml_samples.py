"""OML^O21 test messages, built field by field so every position is the one the standard names."""

from __future__ import annotations

RPPS = "ASIP-SANTE-PS&1.2.250.1.71.4.2.1&ISO"
IPP_AUTHORITY = "CHU-X&1.2.250.1.999.1&ISO"


def segment(name: str, fields: dict[int, str]) -> str:
    """``name|f1|f2...`` with the given fields at their positions (MSH: pass fields from 3)."""
    last = max(fields)
    values = [fields.get(n, "") for n in range(1, last + 1)]
    if name == "MSH":
        return "MSH|^~\\&|" + "|".join(values[2:])
    return "|".join([name, *values])


def oml(control_id: str, ipp: str, orders: list[tuple[str, str, str]], *, family: str = "ORDRE-HL7",
        group: str | None = None) -> str:
    """An OML^O21: one ORC/OBR/SPM per (placer number, exam code, specimen number)."""
    segments = [
        segment("MSH", {3: "DPI", 4: "CHU-X", 5: "SGL", 6: "LABO", 7: "20261126080000", 9: "OML^O21^OML_O21",
                        10: control_id, 11: "P", 12: "2.5", 18: "UNICODE UTF-8"}),
        segment("PID", {1: "1", 3: f"{ipp}^^^{IPP_AUTHORITY}^PI", 5: f"{family}^CAMILLE^CAMILLE JEANNE^^^^L",
                        7: "19850412", 8: "F", 11: "^^CLERMONT-FERRAND^^^^BDL^^63113"}),
        segment("PV1", {1: "1", 2: "I", 3: "CARDIO"}),
    ]
    for n, (placer, exam, specimen) in enumerate(orders, 1):
        orc = {1: "NW", 2: f"{placer}^DPI-CHU", 12: f"10003^MARTIN^PAUL^^^DR^^^{RPPS}"}
        if group:
            orc[4] = f"{group}^DPI-CHU"
        segments += [
            segment("ORC", orc),
            segment("OBR", {1: str(n), 2: f"{placer}^DPI-CHU", 4: f"{exam}^Examen {exam}^L", 7: "20261126074000",
                            16: f"10003^MARTIN^PAUL^^^DR^^^{RPPS}",
                            28: f"20001^DURAND^ANNE^^^DR^^^{RPPS}~20002^PETIT^LUC^^^DR^^^{RPPS}"}),
            segment("SPM", {1: "1", 2: f"{specimen}&DPI-CHU", 4: "SER", 17: "20261126074500"}),
        ]
    return "\r".join(segments) + "\r"
