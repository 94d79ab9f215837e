"""The web workbench's files (``web/``, built by ``npm run build`` into ``web/dist``), served at ``/`` next to
the API at ``/fhir``.

The workbench is a single-page application: ``/`` and each of its screens (``/patients``,
``/validation/{id}``...) answer its ``index.html``, and ``/assets/{name}`` the hashed JavaScript and CSS
files. These routes are public (listed in ``server/access/doors.py``): they hold code, never data; every
datum the screens show is fetched from ``/fhir`` with the user's session. Any other path (a wrong API path
included) stays a clear 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from resources.errors import NotFound

router = APIRouter(include_in_schema=False)

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "web" / "dist"
SCREENS = ("patients", "paillasse", "validation", "identite", "demandes", "reception",
           "non-rattaches", "comptes-rendus", "catalogue", "tableau-de-bord",
           "administration", "autovalides")
"""The SPA's screens (web/src/App.tsx): each answers the page at ``/<screen>`` and ``/<screen>/{rid}``. Named
one by one, so that no route of the workbench can ever match an API path (tests/server/test_wiring.py)."""
SECURITY_HEADERS = {
    # Mantine writes style attributes; the CR-Bio PDF is shown from a blob: URL in a frame
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
                               "frame-src 'self' blob:; object-src 'self' blob:; frame-ancestors 'none'; "
                               "base-uri 'none'",  # no form-action: logout through PSC redirects to its host
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def web_dir(request: Request) -> Path:
    configured: Path | None = request.app.state.settings.web_dir
    return (configured or DEFAULT_DIR).resolve()


def _index(request: Request) -> Response:
    index = web_dir(request) / "index.html"
    if not index.is_file():
        raise NotFound(f"the web workbench is not built ({index} is missing): run `npm ci && npm run build` in web/")
    return FileResponse(index, media_type="text/html; charset=utf-8",
                        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/")
async def home(request: Request) -> Response:
    return _index(request)


@router.get("/assets/{name}")
async def asset(request: Request, name: str) -> Response:
    folder = web_dir(request) / "assets"
    if "\x00" in name:  # a NUL (%00) made resolve() raise: 500 "internal error: ValueError" before
        raise NotFound(f"no workbench file {name!r}")
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise NotFound(f"no workbench file {name!r}")
    # file names carry a content hash: a new build gets new names, so the browser may keep these forever
    return FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable",
                                       "X-Content-Type-Options": "nosniff"})


async def page(request: Request) -> Response:
    """A screen of the workbench (``/patients``, ``/validation/{rid}``...): its page, for a reload or a bookmark."""
    return _index(request)


for _screen in SCREENS:
    router.add_api_route(f"/{_screen}", page, methods=["GET"])
    router.add_api_route(f"/{_screen}/{{rid}}", page, methods=["GET"])
