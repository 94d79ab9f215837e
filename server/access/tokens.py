"""Bearer access tokens: JWT (ES256) signed by the server, short-lived, each recorded by its ``jti``
so that ``sgl tokens revoke`` (or disabling the client/user) takes effect on a running server within
``recent.TTL_S`` seconds (at once when the server itself revokes); refresh tokens are opaque, stored as a
SHA-256 digest, rotated on each use (a replayed refresh token revokes its whole family)."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jwt import JWTClaimsRegistry
from pymongo.asynchronous.database import AsyncDatabase

from resources.search.date import now_utc
from server.access import recent
from server.access.collections import TOKENS

ISSUER = "opensgl"
AUDIENCE = "opensgl-fhir"
ALGORITHM = "ES256"


@dataclass(frozen=True)
class Subject:
    """Who a token speaks for: an API client or a user."""

    kind: str  # "client" | "user"
    id: str
    role: str
    practitioner: str | None = None


@dataclass(frozen=True)
class Issued:
    access_token: str
    expires_in: int
    refresh_token: str | None
    jti: str


class InvalidToken(Exception):
    """The bearer token is not ours, expired, revoked or malformed; the message says which."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def issue(db: AsyncDatabase[Any], key: ECKey, subject: Subject, *, ttl: int, refresh_ttl: int,
                family: str | None = None) -> Issued:
    now, epoch = now_utc(), int(time.time())
    jti = str(uuid.uuid4())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": f"{subject.kind}:{subject.id}", "role": subject.role,
              "iat": epoch, "nbf": epoch, "exp": epoch + ttl, "jti": jti}
    if subject.practitioner:
        claims["practitioner"] = subject.practitioner
    token = jwt.encode({"alg": ALGORITHM, "kid": key.kid}, claims, key, algorithms=[ALGORITHM])
    refresh = secrets.token_urlsafe(32)
    family = family or jti
    await db[TOKENS].insert_many([
        {"_id": jti, "type": "access", "subject": f"{subject.kind}:{subject.id}", "role": subject.role,
         "issued": now, "expires": now + timedelta(seconds=ttl), "revoked": False, "family": family},
        {"_id": f"r-{jti}", "type": "refresh", "subject": f"{subject.kind}:{subject.id}", "role": subject.role,
         "refresh_hash": _digest(refresh), "issued": now, "expires": now + timedelta(seconds=refresh_ttl),
         "revoked": False, "used": False, "family": family},
    ])
    return Issued(token, ttl, refresh, jti)


MAX_VERIFIED = 4096
"""Token strings whose signature is remembered at once (the least recently used go first)."""


class VerifiedSignatures:
    """Token string -> its claims, once its ES256 signature was verified with a key (issue 17 item 4: the
    signature check was about 0.2 ms of every request, repeated on the same token by each request of a client).

    Why this is no weaker: a signature is a pure function of the token's bytes and the key, so the same string
    verified by the same key object (held by a weak reference: another key, or a key loaded again, verifies
    afresh) verifies again. Only the signature is remembered; issuer, audience, expiry and not-before are checked
    on every request (``decode``), and revocation is the database's word (``check_recorded``, ``recent.py``).
    A token is remembered only once all its checks passed, and forgotten when one later fails (it expired)."""

    def __init__(self, max_entries: int = MAX_VERIFIED) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[weakref.ref[ECKey], dict[str, Any]]] = OrderedDict()

    def get(self, key: ECKey, token: str) -> dict[str, Any] | None:
        entry = self._entries.get(token)
        if entry is None or entry[0]() is not key:
            return None
        self._entries.move_to_end(token)
        return entry[1]

    def put(self, key: ECKey, token: str, claims: dict[str, Any]) -> None:
        self._entries[token] = (weakref.ref(key), claims)
        self._entries.move_to_end(token)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, token: str) -> None:
        self._entries.pop(token, None)

    def __len__(self) -> int:
        return len(self._entries)


VERIFIED = VerifiedSignatures()


def decode(key: ECKey, token: str, *, now: int | None = None) -> dict[str, Any]:
    """The verified claims (signature with our key and ES256 only, issuer, audience, time), or InvalidToken.
    The signature of a token already verified with ``key`` is not verified again (``VerifiedSignatures``); the
    claims are checked every time, at ``now`` (seconds since the epoch; the clock when None)."""
    claims = VERIFIED.get(key, token)
    fresh = claims is None
    try:
        if claims is None:
            claims = dict(jwt.decode(token, key, algorithms=[ALGORITHM]).claims)
        JWTClaimsRegistry(now=now, leeway=5, iss={"essential": True, "value": ISSUER},
                          aud={"essential": True, "value": AUDIENCE}, exp={"essential": True},
                          jti={"essential": True}, sub={"essential": True}).validate(claims)
    except (JoseError, ValueError, TypeError) as exc:
        VERIFIED.forget(token)
        raise InvalidToken(f"invalid bearer token: {type(exc).__name__}") from exc
    if fresh:
        VERIFIED.put(key, token, claims)
    return dict(claims)


async def check_recorded(db: AsyncDatabase[Any], claims: dict[str, Any]) -> None:
    doc = await db[TOKENS].find_one({"_id": str(claims["jti"]), "type": "access"})
    if doc is None or doc.get("revoked"):
        raise InvalidToken("the bearer token was revoked")


async def redeem_refresh(db: AsyncDatabase[Any], refresh: str, subject: str) -> dict[str, Any]:
    """Mark a refresh token used (once); a second use revokes its family (stolen token replayed)."""
    doc = await db[TOKENS].find_one({"refresh_hash": _digest(refresh), "type": "refresh"})
    if doc is None or doc["subject"] != subject or doc.get("revoked") or doc["expires"] < now_utc():
        raise InvalidToken("invalid refresh token")
    claimed = await db[TOKENS].update_one({"_id": doc["_id"], "used": False}, {"$set": {"used": True}})
    if claimed.modified_count != 1:
        await revoke_family(db, doc["family"])
        raise InvalidToken("the refresh token was already used: its tokens are revoked")
    return dict(doc)


async def revoke_family(db: AsyncDatabase[Any], family: str) -> int:
    result = await db[TOKENS].update_many({"family": family}, {"$set": {"revoked": True}})
    recent.forget_all()
    return result.modified_count


async def revoke(db: AsyncDatabase[Any], *, jti: str | None = None, subject: str | None = None) -> int:
    """Revoke one token (and its refresh token), or every token of a subject (``client:<id>``, ``user:<name>``)."""
    if jti:
        doc = await db[TOKENS].find_one({"_id": jti})
        return await revoke_family(db, doc["family"]) if doc else 0
    if subject:
        result = await db[TOKENS].update_many({"subject": subject}, {"$set": {"revoked": True}})
        recent.forget_all()
        return result.modified_count
    return 0


async def list_tokens(db: AsyncDatabase[Any], *, include_inactive: bool = False) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"type": "access"}
    if not include_inactive:
        query.update({"revoked": False, "expires": {"$gt": now_utc()}})
    return [d async for d in db[TOKENS].find(query).sort("issued", 1)]
