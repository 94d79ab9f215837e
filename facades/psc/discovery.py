"""The provider's metadata (OpenID Connect Discovery) and its signing keys (JWKS).

PSC publishes an ANS-specific document (``/.well-known/wallet-openid-configuration``) whose
authorization endpoint is on the *wallet* host while the others stay on the ``auth`` host, so the
endpoints are read from the document and never derived from the issuer. Every endpoint must be
HTTPS: a relying party that followed a plain-HTTP token endpoint would leak the code and secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from facades.psc.errors import PscUnavailable

REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint")


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str
    end_session_endpoint: str | None
    signing_algorithms: tuple[str, ...]

    @classmethod
    def from_document(cls, doc: Any, *, source: str) -> ProviderMetadata:
        if not isinstance(doc, dict):
            raise PscUnavailable(f"the discovery document at {source} is not a JSON object")
        missing = [name for name in REQUIRED if not isinstance(doc.get(name), str) or not doc[name]]
        if missing:
            raise PscUnavailable(f"the discovery document at {source} lacks {', '.join(missing)}")
        endpoints = [name for name in (*REQUIRED, "end_session_endpoint") if doc.get(name)]
        plain = [name for name in endpoints if urlsplit(str(doc[name])).scheme != "https"]
        if plain:
            raise PscUnavailable(f"the discovery document at {source} gives non-HTTPS {', '.join(plain)}")
        algorithms = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
        return cls(doc["issuer"], doc["authorization_endpoint"], doc["token_endpoint"], doc["jwks_uri"],
                   doc["userinfo_endpoint"], doc.get("end_session_endpoint"),
                   tuple(a for a in algorithms if isinstance(a, str) and a != "none"))


async def get_json(http: httpx.AsyncClient, url: str, what: str) -> Any:
    """GET a JSON document; a network failure or a non-200 answer is the provider being unavailable."""
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise PscUnavailable(f"Pro Santé Connect {what} unreachable ({type(exc).__name__}: {exc})") from exc
    if response.status_code != 200:
        raise PscUnavailable(f"Pro Santé Connect {what} answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise PscUnavailable(f"Pro Santé Connect {what} is not JSON") from exc


async def fetch_metadata(http: httpx.AsyncClient, discovery_url: str) -> ProviderMetadata:
    return ProviderMetadata.from_document(await get_json(http, discovery_url, "discovery document"),
                                          source=discovery_url)


async def fetch_keys(http: httpx.AsyncClient, metadata: ProviderMetadata) -> KeySet:
    doc = await get_json(http, metadata.jwks_uri, "JWKS")
    try:
        return KeySet.import_key_set(doc)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise PscUnavailable(f"the JWKS at {metadata.jwks_uri} cannot be read ({exc})") from exc
