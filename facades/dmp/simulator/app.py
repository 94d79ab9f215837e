"""HTTP face of the simulated DMP (Starlette): the DMP services and the test harness endpoints.

- ``POST /si-dmp-server/v2/services/repository`` (ITI-41) and ``.../registry`` (ITI-57): SOAP 1.2,
  MTOM or plain.
- ``GET /_sim/documents``: JSON array of what the DMP holds (uniqueId, patientId, formatCode,
  typeCode, confidentialityCode, availabilityStatus, replaces, authorRpps, vihfSubject, received...).
- ``POST /_sim/faults`` ``{"mode": "http500|soap_fault|registry_error|garbage|truncated|slow|drop",
  "count": n, "code": "XDSRegistryBusy", "delay": s}``: the next ``n`` requests fail that way.
- ``POST /_sim/reset``: forget everything (tests sharing one simulator).
- ``GET /_sim/stats``: number of DMP requests received, and of those read and answered by transaction
  (``"ITI-18": n``...: a test counts the registry queries a delivery makes).
- ``GET /_sim/web-calls``: the TD0.9 calls the web-PS port received (:mod:`facades.dmp.simulator.web`).

TLS and the client-certificate check are the server's job (:mod:`facades.dmp.simulator.run`): a
client without a certificate issued by the test CA never reaches these routes.
"""

from __future__ import annotations

import asyncio
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from facades.dmp.simulator.registry import SimulatedDmp
from facades.dmp.simulator.web import WebCalls

SERVICES = "/si-dmp-server/v2/services"
MAX_BODY = 32 * 1024 * 1024


class _Dropped(Response):
    """The answer cut off: headers announcing the whole body, half of it, then the server closes the connection
    (the ``drop`` fault: the request was processed, the client never gets a readable answer)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": False})


def create_app(dmp: SimulatedDmp, web_calls: WebCalls | None = None) -> Starlette:
    """The ASGI app serving ``dmp`` (and the harness view of ``web_calls``, the web-PS port's calls)."""
    calls = web_calls or WebCalls()

    async def service(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response(status_code=413)
        reply = await dmp.handle(request.url.path, request.headers.get("content-type", ""), body)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop:
            return _Dropped(reply.body, status_code=reply.status, media_type=reply.content_type)
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type)

    async def documents(request: Request) -> Response:
        return JSONResponse(dmp.documents())

    async def faults(request: Request) -> Response:
        try:
            plan = json.loads(await request.body())
            dmp.queue_faults(str(plan["mode"]), int(plan.get("count", 1)), str(plan.get("code", "XDSRegistryBusy")),
                             float(plan.get("delay", 0.0)))
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"queued": len(dmp.faults)})

    async def reset(request: Request) -> Response:
        dmp.reset()
        calls.reset()
        return JSONResponse({"reset": True})

    async def stats(request: Request) -> Response:
        return JSONResponse({"requests": dmp.requests, "entries": len(dmp.entries), "faults": len(dmp.faults),
                             **dmp.transactions})

    async def web(request: Request) -> Response:
        return JSONResponse(calls.calls)

    return Starlette(routes=[
        Route(f"{SERVICES}/repository", service, methods=["POST"]),
        Route(f"{SERVICES}/registry", service, methods=["POST"]),
        Route("/_sim/documents", documents, methods=["GET"]),
        Route("/_sim/faults", faults, methods=["POST"]),
        Route("/_sim/reset", reset, methods=["POST"]),
        Route("/_sim/stats", stats, methods=["GET"]),
        Route("/_sim/web-calls", web, methods=["GET"]),
    ])
