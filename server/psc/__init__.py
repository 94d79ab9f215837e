"""Pro Santé Connect login for the web workbench (SGL.PSC.01): ``/auth/psc/login``, ``/callback``,
``/logout``. The OIDC work is ``facades.psc``; here: where the pending login waits (``pending``),
which local account the professional is (matched by RPPS), the session, and the audit trail."""

from server.psc.routes import router

__all__ = ["router"]
