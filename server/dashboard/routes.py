"""``GET /fhir/$delivery-dashboard`` (SGL.TBB.01-03): the delivery dashboards over the API, JSON or CSV.

Parameters (all optional): ``period`` (``mois``, ``annee``, ``annee-precedente``; repeatable or comma
separated; default all three), ``finess`` (one FINESS géographique; default every one), ``date``
(``YYYY-MM-DD``: the day the periods are drawn around; default today, lab time) and ``_format=csv`` (or
``Accept: text/csv``) for the ``;`` extract. Anything else is refused (400). The permission row is
``$delivery-dashboard`` in ``server/access/permissions.py``.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resources.errors import InvalidInput
from server.dashboard.compute import dashboard
from server.dashboard.periods import chosen_periods
from server.dashboard.render import as_csv, as_parameters
from server.delivery.dmp_channel import lab_identity
from server.deps import SettingsDep
from server.responses import fhir_response

router = APIRouter()
KNOWN = {"period", "finess", "date", "_format"}
_FINESS = re.compile(r"^\d{9}$|^2[AB]\d{7}$")


def wants_csv(request: Request) -> bool:
    fmt = request.query_params.get("_format", "")
    if fmt:
        return fmt.lower() in ("csv", "text/csv")
    return "text/csv" in request.headers.get("accept", "")


@router.get("/$delivery-dashboard")
async def delivery_dashboard(request: Request, settings: SettingsDep) -> Response:
    query = request.query_params
    unknown = sorted(set(query) - KNOWN)
    if unknown:
        raise InvalidInput(f"$delivery-dashboard does not take {', '.join(unknown)}; it takes "
                           f"{', '.join(sorted(KNOWN))}", expression=unknown[0])
    finess = query.get("finess") or None
    if finess is not None and not _FINESS.match(finess):
        raise InvalidInput(f"finess: {finess!r} is not a FINESS number (9 characters)", expression="finess")
    chosen = chosen_periods(query.getlist("period"), query.get("date"))
    site = str(lab_identity(settings.lab_profile).get("finess", ""))
    rows = await dashboard(request.app.state.database.db, chosen, finess=finess, site_finess=site)
    if wants_csv(request):
        day = chosen[0].first_day if chosen else ""
        return Response(as_csv(rows).encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="tableau-de-bord-envois-{day}.csv"'})
    return fhir_response(as_parameters(rows))
