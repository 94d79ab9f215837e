"""Pro Santé Connect (ANS): the OpenID Connect relying party and a local simulator.

``PscClient`` runs the authorization code flow with PKCE (authlib, joserfc) against the discovery
URL of ``PscConfig``: production, sandbox or ``sgl psc-simulator``. It returns a ``PscLogin`` whose
``PscUser`` gives the national PS id (RPPS/ADELI), professions and exercise modes. Errors:
``PscLoginRefused`` (no session, the reason named), ``PscUnavailable`` (retry later).
"""

from facades.psc.client import PendingLogin, PscClient, PscLogin
from facades.psc.config import ACR, PRODUCTION_DISCOVERY, SANDBOX_DISCOVERY, SCOPE, PscConfig
from facades.psc.discovery import ProviderMetadata
from facades.psc.errors import PscLoginRefused, PscUnavailable
from facades.psc.id_token import verify_id_token
from facades.psc.userinfo import Activity, Exercise, PscUser, read_user

__all__ = ["ACR", "PRODUCTION_DISCOVERY", "SANDBOX_DISCOVERY", "SCOPE", "Activity", "Exercise", "PendingLogin",
           "ProviderMetadata", "PscClient", "PscConfig", "PscLogin", "PscLoginRefused", "PscUnavailable",
           "PscUser", "read_user", "verify_id_token"]
