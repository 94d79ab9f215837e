"""What one directory load did, kept in the ``annuaire_runs`` collection and shown by ``sgl annuaire
status`` and ``GET /fhir/Practitioner/$annuaire-status``: per resource type the counts added, changed,
unchanged and inactivated, the rejected lines with their file and line number, and whether the load
read every file to the end (only then are the resources that disappeared marked inactive)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RUNS = "annuaire_runs"
MSSANTE = "annuaire_mssante"
KEPT_REJECTIONS = 1000
"""Rejected lines kept in the stored report (all are counted, and the CLI prints them all)."""

_KINDS = ("added", "changed", "unchanged", "inactivated")


@dataclass
class LoadReport:
    run: str
    started: datetime
    source: str
    finished: datetime | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_total: int = 0
    complete: bool = False
    inactivation: str = "not run"
    error: str | None = None
    followed: dict[str, int] = field(default_factory=dict)

    def count(self, rtype: str, kind: str, n: int = 1) -> None:
        per = self.counts.setdefault(rtype, dict.fromkeys(_KINDS, 0))
        per[kind] = per.get(kind, 0) + n

    def carry(self, earlier: LoadReport) -> None:
        """Take in what an interrupted pass over the same files wrote before this pass (which found those
        resources already stored: unchanged), so that the counts say what the whole run changed."""
        for rtype, per in earlier.counts.items():
            mine = self.counts.setdefault(rtype, dict.fromkeys(_KINDS, 0))
            for kind in ("added", "changed", "inactivated"):
                mine[kind] += per.get(kind, 0)
                if kind != "inactivated":
                    mine["unchanged"] = max(0, mine["unchanged"] - per.get(kind, 0))

    def reject(self, file: str, line: int, reason: str) -> None:
        self.rejected_total += 1
        if len(self.rejected) < KEPT_REJECTIONS:
            self.rejected.append({"file": file, "line": line, "reason": reason})

    def document(self) -> dict[str, Any]:
        return {"_id": self.run, "started": self.started, "finished": self.finished, "source": self.source,
                "files": self.files, "counts": self.counts, "rejected": self.rejected,
                "rejected_total": self.rejected_total, "complete": self.complete,
                "inactivation": self.inactivation, "error": self.error, "followed": self.followed,
                "ledger": True}  # its ids are listed in ``annuaire_ids`` (server/annuaire/ledger.py)

    def lines(self) -> list[str]:
        """The report as the CLI prints it (``;`` CSV-like, French labels in the README)."""
        out = [f"run;{self.run}", f"source;{self.source}", f"complete;{'yes' if self.complete else 'no'}",
               f"inactivation;{self.inactivation}"]
        out += [f"file;{f['name']};{f['kind']};{f['lines']} lines" for f in self.files]
        out.append("type;added;changed;unchanged;inactivated")
        for rtype, per in sorted(self.counts.items()):
            out.append(";".join([rtype, *(str(per.get(k, 0)) for k in _KINDS)]))
        out += [f"{k};{v}" for k, v in self.followed.items()]
        out.append(f"rejected;{self.rejected_total}")
        if self.error:
            out.append(f"error;{self.error}")
        return out


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def parameters(doc: dict[str, Any] | None, *, every_hours: float, source: str | None,
               next_due: datetime | None) -> dict[str, Any]:
    """The last run and the schedule as a FHIR ``Parameters`` resource."""
    params: list[dict[str, Any]] = [{"name": "frequencyHours", "valueDecimal": every_hours},
                                    {"name": "scheduled", "valueBoolean": bool(every_hours and source)}]
    if source:
        params.append({"name": "source", "valueString": source})
    if next_due is not None:
        params.append({"name": "nextRun", "valueDateTime": _when(next_due)})
    if doc is None:
        return {"resourceType": "Parameters", "parameter": params}
    part: list[dict[str, Any]] = [{"name": "id", "valueString": doc["_id"]},
                                  {"name": "started", "valueDateTime": _when(doc["started"])},
                                  {"name": "complete", "valueBoolean": bool(doc.get("complete"))},
                                  {"name": "inactivation", "valueString": doc.get("inactivation", "")},
                                  {"name": "rejectedTotal", "valueInteger": int(doc.get("rejected_total", 0))}]
    if doc.get("finished"):
        part.append({"name": "finished", "valueDateTime": _when(doc["finished"])})
    if doc.get("error"):
        part.append({"name": "error", "valueString": doc["error"]})
    for rtype, per in sorted((doc.get("counts") or {}).items()):
        part.append({"name": "counts", "part": [{"name": "type", "valueCode": rtype}] + [
            {"name": k, "valueInteger": int(per.get(k, 0))} for k in _KINDS]})
    part += [{"name": k, "valueInteger": int(v)} for k, v in (doc.get("followed") or {}).items()]
    for rej in doc.get("rejected", [])[:100]:
        part.append({"name": "rejected", "part": [{"name": "file", "valueString": rej["file"]},
                                                  {"name": "line", "valueInteger": rej["line"]},
                                                  {"name": "reason", "valueString": rej["reason"]}]})
    params.append({"name": "lastRun", "part": part})
    return {"resourceType": "Parameters", "parameter": params}
