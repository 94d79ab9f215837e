"""A local Pro Santé Connect for tests and demos: real OpenID Connect over HTTPS on loopback.

``provider`` holds the protocol rules, ``app`` the HTTP endpoints, ``users`` the test
professionals, ``run`` the server entry used by ``sgl psc-simulator``.
"""

from facades.psc.simulator.provider import OIDC_PATH, REALM_PATH, SimulatedProvider
from facades.psc.simulator.run import run_simulator
from facades.psc.simulator.users import DEFAULT_USERS, TestUser, load_users, professional

__all__ = ["DEFAULT_USERS", "OIDC_PATH", "REALM_PATH", "SimulatedProvider", "TestUser", "load_users",
           "professional", "run_simulator"]
