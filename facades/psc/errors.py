"""Why a Pro Santé Connect login was refused, and when the provider could not be reached.

A refusal names what was wrong (state, nonce, signature, issuer, audience, expiry, userinfo claim)
so that the login page can say it and the audit trail can keep it; it never carries a token.
"""

from __future__ import annotations

from resources.errors import SglError, Unavailable


class PscLoginRefused(SglError):
    """The authorization response or the tokens do not prove who the user is: no session (401)."""

    status = 401
    issue_code = "security"


class PscUnavailable(Unavailable):
    """The provider (discovery, token, userinfo or JWKS endpoint) did not answer properly: retry later."""
