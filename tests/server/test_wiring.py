"""Route precedence is declared, not an accident of router order (server/wiring.py).

Every pair of routes that can match the same request is computed from the application's own routes;
each must be declared in ``ROUTE_OVERLAPS``, and a request on a path both match is sent through the
real application to see which handler answers: the declared winner. The access enforcement (the one
dependency run after routing, before any handler) is replaced by a probe that names the route chosen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Route

from server.access.enforce import enforce
from server.app import create_app
from server.settings import Settings
from server.wiring import ROUTE_OVERLAPS, ROUTERS

_CONVERTORS = {None: r"[^/]+", "str": r"[^/]+", "fhirid": r"[A-Za-z0-9\-\.]{1,64}"}
_PARAM = re.compile(r"^\{(\w+)(?::(\w+))?\}$")
_SAMPLE = "x1"  # a value every parameter convertor above accepts


class Chosen(Exception):
    def __init__(self, route: APIRoute) -> None:
        self.route = route


def _name(route: APIRoute) -> dict[str, str]:
    """How the probe names a route: its handler and its path as declared in its own router."""
    return {"handler": f"{route.endpoint.__module__}.{route.endpoint.__qualname__}", "path": route.path}


def _segment_regex(segment: str) -> str | None:
    """The regex of a parameter segment, None for a literal one."""
    found = _PARAM.match(segment)
    if found is None:
        return None
    if found.group(2) not in _CONVERTORS:
        raise AssertionError(f"convertor {found.group(2)!r} in {segment!r}: teach this test how it matches")
    return _CONVERTORS[found.group(2)]


def _common_path(a: str, b: str) -> str | None:
    """A concrete path both route templates match, or None when no path can match both."""
    sa, sb = a.split("/"), b.split("/")
    if len(sa) != len(sb):
        return None
    out = []
    for x, y in zip(sa, sb, strict=True):
        rx, ry = _segment_regex(x), _segment_regex(y)
        if rx is None and ry is None:
            if x != y:
                return None
            out.append(x)
        elif rx is None or ry is None:
            literal, regex = (x, ry) if rx is None else (y, rx)
            if regex is None or not re.fullmatch(regex, literal):
                return None
            out.append(literal)
        else:
            out.append(_SAMPLE)
    return "/".join(out)


def _api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """``(full path template, route)`` of every API route, in the order the application tries them."""
    return [(str(ctx.path), ctx.original_route) for ctx in iter_route_contexts(app.routes)
            if isinstance(ctx.original_route, APIRoute)]


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """``(method, path template)`` of every API route, in the order the application tries them."""
    return [(method, path) for path, route in _api_routes(app) for method in sorted(route.methods or ())]


def _overlaps(app: FastAPI) -> Iterator[tuple[str, str, str, str]]:
    routes = _routes(app)
    for i, (method, first) in enumerate(routes):
        for other_method, later in routes[i + 1:]:
            if other_method == method and (path := _common_path(first, later)) is not None:
                yield method, first, later, path


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The real application (routers wired by server/wiring.py), never started: routing needs no database."""
    app = create_app(Settings(data_dir=Path(tmp_path_factory.mktemp("wiring"))))

    async def probe(request: Request) -> None:
        raise Chosen(request.scope["route"])

    async def named(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Chosen)
        name = _name(exc.route)  # also in headers: a HEAD answer has no body
        return JSONResponse(name, status_code=299, headers={"x-route-handler": name["handler"],
                                                            "x-route-path": name["path"]})

    app.dependency_overrides[enforce] = probe
    app.add_exception_handler(Chosen, named)
    return app


def test_every_overlap_of_routes_is_declared(app: FastAPI) -> None:
    found = {(method, first, later) for method, first, later, _ in _overlaps(app)}
    assert found - ROUTE_OVERLAPS.keys() == set(), "routes that can match the same request: declare them"
    assert ROUTE_OVERLAPS.keys() - found == set(), "declared overlaps the routes no longer make: remove them"


async def test_the_declared_route_answers_each_overlapping_path(app: FastAPI) -> None:
    overlaps = list(_overlaps(app))
    by_path = {(method, path): route for path, route in _api_routes(app) for method in route.methods or ()}
    assert ("GET", "/fhir/Patient/$duplicates", "/fhir/{rtype}/{rid}", "/fhir/Patient/$duplicates") in overlaps
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sgl") as client:
        for method, first, later, path in overlaps:
            answer = await client.request(method, path)
            assert answer.status_code == 299, (method, path, answer.text)
            expected = _name(by_path[method, first])
            chosen = {"handler": answer.headers["x-route-handler"], "path": answer.headers["x-route-path"]}
            assert chosen == expected, f"{method} {path}: {first} must win over {later}"
            assert expected != _name(by_path[method, later])


def test_common_path_of_templates() -> None:
    assert _common_path("/fhir/{rtype}/{rid}", "/fhir/Patient/$duplicates") == "/fhir/Patient/$duplicates"
    assert _common_path("/fhir/Patient/{rid:fhirid}/$insi-verify", "/fhir/{rtype}/{rid}/_history") is None
    assert _common_path("/fhir/{rtype}/{rid:fhirid}", "/fhir/Patient/$duplicates") is None  # '$' is no FHIR id
    assert _common_path("/fhir/{a}/{b}", "/fhir/{c}/{d:fhirid}") == "/fhir/x1/x1"
    assert _common_path("/fhir", "/fhir/") is None
    with pytest.raises(AssertionError, match="convertor 'path'"):
        _common_path("/files/{rest:path}", "/files/a")


def test_the_routes_are_one_flat_list_in_precedence_order_each_behind_the_enforcement(tmp_path: Path) -> None:
    """Issue 17 item 4: FastAPI walked each included router as a nested branch on every request (about 0.55 ms
    of CPU for ``GET /fhir/Observation``); the application now holds the routes of ``ROUTERS`` directly, in the
    same order, each with the access enforcement as its first dependency (failed on the old code: one branch)."""
    app = create_app(Settings(data_dir=tmp_path / "var"))
    assert all(isinstance(route, (APIRoute, Route)) for route in app.router.routes)
    served = [(route.path, route.endpoint) for route in app.router.routes if isinstance(route, APIRoute)]
    declared = [(prefix + str(ctx.path), ctx.original_route.endpoint) for router, prefix, _ in ROUTERS
                for ctx in iter_route_contexts(router.routes) if isinstance(ctx.original_route, APIRoute)]
    assert served == declared and len(served) > 100
    api = [route for route in app.router.routes if isinstance(route, APIRoute)]
    assert all(route.dependencies[0].dependency is enforce for route in api)
