"""The delivery dashboards (SGL.TBB.01-03) as MongoDB aggregations over one index range per period.

Three pipelines per period, each starting with a ``$match`` on the period's date range (and the FINESS when
one is asked), which the indexes ``Outbox.ensure_indexes`` creates serve (``created`` and ``facts.finess,
created`` on ``deliveries``, ``produced`` and ``finess, produced`` on ``crbio_versions``): a view reads the
period's lines only, never every document (``explain`` in the tests shows the IXSCAN and the documents examined).

- ``crbio_versions``: CR-Bio produced (versions), with subcontracted analyses, masked to professionals,
  invisible to the patient, with a qualified INS; by FINESS and RPPS (TBB.01, TBB.02).
- ``deliveries`` (first versions and replacements; withdrawals and masking changes are not CR-Bio sent): per
  channel (``route``) the deliveries written, delivered (with / without qualified INS), failed, waiting,
  blocked or cancelled; the failure rate is failed / (delivered + failed) (TBB.03).
- the same deliveries by dossier (report): dossiers with at least one CR-Bio delivered on each channel, and
  dossiers delivered to the DMP and over MSSanté to professionals and to the patient (TBB.01). A dossier
  counts under the RPPS of its latest validator only, so the FINESS totals count it once.

The FINESS rows are the sums of their RPPS rows (every count is additive by construction).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from server.dashboard.periods import Period
from server.delivery.facts import ROUTES, VERSIONS
from server.delivery.outbox import BLOCKED, CANCELLED, COLLECTION, DELIVERED, FAILED

SENT_ACTIONS = ("publish", "replace")
ALL_THREE = ("dmp", "mss-pro", "mss-patient")
VERSION_COUNTS = ("produced", "subcontracted", "masked", "invisible", "ins")
DELIVERY_COUNTS = ("sent", "delivered", "delivered_ins", "failed", "pending", "stopped")
Pipeline = list[dict[str, Any]]


def key(route: str) -> str:
    """A route as a metric prefix (``mss-pro`` -> ``mss_pro``)."""
    return route.replace("-", "_")


def _when(test: Any) -> dict[str, Any]:
    return {"$sum": {"$cond": [test, 1, 0]}}


def _state(state: str) -> dict[str, Any]:
    return {"$eq": ["$state", state]}


def pipelines(period: Period, finess: str | None = None) -> dict[str, tuple[str, Pipeline]]:
    """The three aggregations of one period: name -> (collection, pipeline). Public so that the tests
    ``explain`` exactly what the dashboard runs."""
    produced: dict[str, Any] = {"produced": {"$gte": period.start, "$lt": period.end}}
    created: dict[str, Any] = {"created": {"$gte": period.start, "$lt": period.end}}
    if finess:
        produced["finess"] = finess
        created["facts.finess"] = finess
    # the action apart, after the range: SecantusDB's planner scans when a predicate is on an unindexed field
    # (MongoDB merges the two stages and filters the index range the same way)
    sent = [{"$match": created}, {"$match": {"action": {"$in": list(SENT_ACTIONS)}}}]
    versions = [{"$match": produced}, {"$group": {
        "_id": {"finess": "$finess", "rpps": "$rpps"}, "produced": {"$sum": 1},
        **{name: _when({"$eq": [f"${name}", True]}) for name in ("subcontracted", "masked", "invisible", "ins")}}}]
    deliveries = [*sent, {"$group": {
        "_id": {"finess": "$facts.finess", "rpps": "$facts.rpps", "route": "$route"}, "sent": {"$sum": 1},
        "delivered": _when(_state(DELIVERED)),
        "delivered_ins": _when({"$and": [_state(DELIVERED), {"$eq": ["$facts.ins", True]}]}),
        "failed": _when(_state(FAILED)), "pending": _when(_state("pending")),
        "stopped": _when({"$in": ["$state", [BLOCKED, CANCELLED]]})}}]
    dossiers = [*sent, {"$group": {
        "_id": {"finess": "$facts.finess", "report": "$report_id"}, "rpps": {"$max": "$facts.rpps"},
        "routes": {"$addToSet": {"$cond": [_state(DELIVERED), "$route", "-"]}}}},
        {"$group": {"_id": {"finess": "$_id.finess", "rpps": "$rpps"},
                    **{f"dossiers_{key(r)}": _when({"$in": [r, "$routes"]}) for r in ROUTES},
                    "dossiers_all3": _when({"$setIsSubset": [list(ALL_THREE), "$routes"]})}}]
    return {"versions": (VERSIONS, versions), "deliveries": (COLLECTION, deliveries),
            "dossiers": (COLLECTION, dossiers)}


@dataclass
class Row:
    """One line of the dashboard: a period and a FINESS, all its RPPS (``rpps`` empty) or one."""

    period: Period
    finess: str
    rpps: str
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, other: dict[str, int]) -> None:
        for name, value in other.items():
            self.counts[name] += value

    def share(self, part: str, whole: str) -> float | None:
        """``part`` as a percentage of ``whole`` (one decimal), ``None`` when ``whole`` is zero."""
        total = self.counts[whole]
        return round(100.0 * self.counts[part] / total, 1) if total else None

    def failure_rate(self, route: str) -> float | None:
        prefix = key(route)
        settled = self.counts[f"{prefix}_delivered"] + self.counts[f"{prefix}_failed"]
        return round(100.0 * self.counts[f"{prefix}_failed"] / settled, 1) if settled else None

    def metrics(self) -> dict[str, int | float | None]:
        """Every count and rate of the line, by its stable name (the JSON part names)."""
        out: dict[str, int | float | None] = {name: self.counts[name] for name in VERSION_COUNTS}
        out |= {"subcontracted_pct": self.share("subcontracted", "produced"),
                "masked_pct": self.share("masked", "produced"), "invisible_pct": self.share("invisible", "produced")}
        for route in ROUTES:
            prefix = key(route)
            for name in DELIVERY_COUNTS:
                out[f"{prefix}_{name}"] = self.counts[f"{prefix}_{name}"]
            delivered = self.counts[f"{prefix}_delivered"]
            out[f"{prefix}_delivered_no_ins"] = delivered - self.counts[f"{prefix}_delivered_ins"]
            out[f"{prefix}_failed_pct"] = self.failure_rate(route)
            out[f"{prefix}_dossiers"] = self.counts[f"dossiers_{prefix}"]
        out["dossiers_all3"] = self.counts["dossiers_all3"]
        return out


def _flat(name: str, found: dict[str, Any]) -> dict[str, int]:
    """An aggregation answer as counts named for the row (deliveries prefixed with their route)."""
    counts = {k: int(v) for k, v in found.items() if k not in ("_id", "rpps", "routes")}
    if name == "deliveries":  # no route: stored before the facts, not counted until backfilled (backfill.py)
        route = found["_id"].get("route")
        return {f"{key(str(route))}_{k}": v for k, v in counts.items()} if route else {}
    return counts


async def dashboard(db: AsyncDatabase[Any], chosen: list[Period], *, finess: str | None = None,
                    site_finess: str = "") -> list[Row]:
    """The rows of each period: per FINESS its total, then one per RPPS. A period with nothing still has its
    (zero) row for the asked or the site's FINESS, so an empty month reads as zero rather than missing."""
    rows: list[Row] = []
    for period in chosen:
        by_rpps: dict[tuple[str, str], Row] = {}
        for name, (collection, pipeline) in pipelines(period, finess).items():
            async for found in await db[collection].aggregate(pipeline):
                ids = found["_id"]
                where = (str(ids.get("finess") or ""), str(ids.get("rpps") or found.get("rpps") or ""))
                by_rpps.setdefault(where, Row(period, *where)).add(_flat(name, found))
        totals: dict[str, Row] = {}
        for (site, _), row in by_rpps.items():
            totals.setdefault(site, Row(period, site, "")).add(row.counts)
        if not totals:
            totals[finess or site_finess] = Row(period, finess or site_finess, "")
        for site in sorted(totals):
            rows.append(totals[site])
            rows.extend(by_rpps[w] for w in sorted(by_rpps) if w[0] == site and w[1])
    return rows


def explain_command(collection: str, pipeline: Pipeline) -> dict[str, Any]:
    return {"explain": {"aggregate": collection, "pipeline": pipeline, "cursor": {}}, "verbosity": "executionStats"}

