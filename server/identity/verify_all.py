"""Bulk INSi verification of every retrieved or qualified identity (SGL.INS.58, RNIV rule 46).

Each identity carrying a current INS with status RECUP or QUAL is re-read (its latest version) and
verified as ``$insi-verify`` does (trace, KO -> downgrade and worklist). One INSi client serves the
whole run. A failure on one identity (INSi fault, unreadable answer) is reported on its line and
the run goes on; only an unreachable INSi stops it, since every further call would fail the same way.

The report has one ``;``-separated line per identity:
``patient;matricule;oid;status_before;result;status_after;reasons``.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import IO

from resources.errors import SglError, Unavailable
from resources.ins import INS_TYPE_BY_OID, identity_status, ins_identifier
from resources.interactions.search import plan_search
from server.identity.insi_service import Subject, open_insi
from server.identity.insi_verify import verify_patient
from server.identity.roles import Right
from server.identity.scope import Scope
from server.identity.status import CARRIES_INS

REPORT_HEADER = ("patient", "matricule", "oid", "status_before", "result", "status_after", "reasons")
PAGE = 500


@dataclass
class Tally:
    checked: int = 0
    ok: int = 0
    ko: int = 0
    errors: int = 0
    ko_patients: list[str] = field(default_factory=list)


async def _with_ins(scope: Scope) -> AsyncIterator[str]:
    """Ids of the Patients holding an INS identifier of any INS authority, page by page (indexed search)."""
    for oid in INS_TYPE_BY_OID:
        cursor: str | None = None
        while True:
            pairs = [("identifier", f"urn:oid:{oid}|"), ("_count", str(PAGE))]
            pairs += [("_cursor", cursor)] if cursor else []
            page = await scope.store.search(await plan_search(scope.store, "Patient", pairs, strict=True))
            for patient in page.matches:
                yield str(patient["id"])
            if not page.next_cursor:
                break
            cursor = page.next_cursor


async def candidates(scope: Scope) -> list[str]:
    """Ids of the RECUP/QUAL identities with a current INS, each once."""
    ids: list[str] = []
    seen: set[str] = set()
    async for pid in _with_ins(scope):
        if pid not in seen:
            seen.add(pid)
            patient, _ = await scope.patient(pid)
            if identity_status(patient) in CARRIES_INS and ins_identifier(patient) is not None:
                ids.append(pid)
    return ids


async def verify_all(scope: Scope, ids: list[str], report: IO[str], advance: Callable[[], None]) -> Tally:
    """Verify each identity of ``ids``, writing the report and calling ``advance`` after each one."""
    scope.profile.require(Right.INSI, expression="Patient/$insi-verify")
    writer = csv.writer(report, delimiter=";", lineterminator="\n")
    writer.writerow(REPORT_HEADER)
    tally = Tally()
    subject = Subject()
    async with open_insi(scope.settings, scope.store, subject) as insi:
        for pid in ids:
            subject.patient_id = pid
            patient, vid = await scope.patient(pid)
            ins = ins_identifier(patient) or {}
            row = [pid, ins.get("value", ""), str(ins.get("system", "")).removeprefix("urn:oid:"),
                   identity_status(patient)]
            tally.checked += 1
            try:
                checked = await verify_patient(scope, insi, patient, vid)
            except Unavailable:
                raise
            except SglError as exc:
                tally.errors += 1
                writer.writerow([*row, "ERROR", identity_status(patient), exc.diagnostics])
            else:
                result = checked.verification
                tally.ok += result.ok
                if not result.ok:
                    tally.ko += 1
                    tally.ko_patients.append(pid)
                writer.writerow([*row, result.status, identity_status(checked.patient), " | ".join(result.reasons)])
            advance()
    return tally
