"""Access errors: 401 with ``WWW-Authenticate`` (no or bad credentials). A missing permission is a
plain ``Forbidden`` (403) raised by the permission table."""

from __future__ import annotations

from resources.errors import SglError


class Unauthenticated(SglError):
    status = 401
    issue_code = "login"

    def __init__(self, diagnostics: str, *, error: str | None = None) -> None:
        super().__init__(diagnostics)
        challenge = 'Bearer realm="OpenSGL"'
        if error:
            challenge += f', error="{error}", error_description="{diagnostics}"'
        self.headers = {"WWW-Authenticate": challenge}
