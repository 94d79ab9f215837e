"""HTTP operations of the directory, under ``/fhir`` (registered before the generic FHIR routes):

- ``GET /fhir/Practitioner/$mssante-lookup?identifier=810...`` or ``?family=..&place=..[&given=..]``: the
  MSSanté addresses from the loaded extraction, as ``Parameters`` (SGL.ANN.05); 400 without enough criteria.
- ``GET /fhir/Practitioner/$annuaire-status``: the schedule and the last load with its report (SGL.ANN.01/04).
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from resources.errors import InvalidInput
from server.annuaire.lookup import as_parameters, lookup
from server.annuaire.report import parameters
from server.annuaire.run import last_run
from server.annuaire.schedule import next_due
from server.deps import SettingsDep, StoreDep
from server.responses import fhir_response

router = APIRouter()


@router.get("/Practitioner/$mssante-lookup")
async def mssante_lookup(store: StoreDep,
                         identifier: str | None = Query(default=None, description="8 + RPPS, 0 + ADELI, or RPPS"),
                         family: str | None = Query(default=None, description="family (exercise) name"),
                         given: str | None = Query(default=None),
                         place: str | None = Query(default=None, description="postal code, department or town")
                         ) -> Response:
    try:
        found = await lookup(store.db, identifier=identifier, family=family, given=given, place=place)
    except ValueError as exc:
        raise InvalidInput(str(exc), expression="identifier" if identifier else "family") from exc
    return fhir_response(as_parameters(found))


@router.get("/Practitioner/$annuaire-status")
async def annuaire_status(store: StoreDep, settings: SettingsDep) -> Response:
    doc = await last_run(store.db)
    return fhir_response(parameters(doc, every_hours=settings.annuaire_every_hours, source=settings.annuaire_source,
                                    next_due=next_due(doc, settings.annuaire_every_hours)))
