"""Every dependency of every API route is a coroutine function (server/deps.py).

FastAPI runs a plain ``def`` dependency in its thread pool: a thread hand-off per dependency per request. A
FHIR search paid four (the store, the base URL, the permission check, the JSON-only check), about a fifth of
``sgl``'s time per ``Observation?subject&code`` search (issue 17 item 4). This test walks the application's own
routes, router-level dependencies included, so a new route or dependency cannot bring the hand-off back.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from server.access.enforce import enforce
from server.app import create_app
from server.settings import Settings


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _is_coroutine(call: object) -> bool:
    method = call.__call__ if callable(call) else None  # an instance with ``async def __call__`` (security schemes)
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(method)


def test_no_route_dependency_runs_in_the_thread_pool(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "var"))
    # the application holds its routes flat (server/wiring.py), each with the enforcement among its dependencies
    routes = [route for route in app.router.routes if isinstance(route, APIRoute)]
    calls = {call for route in routes for call in _calls(route.dependant)}
    assert len(routes) > 100 and enforce in calls  # the walk sees the routes and the access enforcement
    sync = sorted(f"{getattr(c, '__module__', '')}.{getattr(c, '__qualname__', c)}" for c in calls
                  if not _is_coroutine(c))
    assert sync == [], f"dependencies run in the thread pool on every request: {sync}"
