"""The two-second memory of checked bearer tokens and sessions (``server/access/recent.py``): what it keeps, for
how long, and that a revocation in this process empties it before a concurrent check can put a stale answer back."""

from __future__ import annotations

from server.access.caller import Caller
from server.access.recent import Checked, RecentChecks


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _caller(n: int) -> Checked:
    return Checked(Caller(f"client:sgl-{n}", "technicien", "client"))


def test_a_check_answers_until_its_ttl_then_the_database_is_read_again() -> None:
    clock = Clock()
    checks = RecentChecks(ttl=2.0, clock=clock)
    checks.put("jti-1", _caller(1), checks.generation)
    clock.now += 1.9
    assert checks.get("jti-1") == _caller(1)
    clock.now += 0.1
    assert checks.get("jti-1") is None and len(checks) == 0
    assert checks.get("jti-unknown") is None


def test_forgetting_drops_every_check_and_refuses_one_read_before_it() -> None:
    checks = RecentChecks(ttl=2.0, clock=Clock())
    checks.put("jti-1", _caller(1), checks.generation)
    begun = checks.generation  # a request starts reading the token's record...
    checks.forget_all()  # ...the token is revoked meanwhile...
    checks.put("jti-2", _caller(2), begun)  # ...its "still active" answer must not be kept
    assert checks.get("jti-1") is None and checks.get("jti-2") is None and len(checks) == 0
    checks.put("jti-2", _caller(2), checks.generation)
    assert checks.get("jti-2") == _caller(2)


def test_the_memory_is_bounded_and_drops_the_least_recently_checked() -> None:
    checks = RecentChecks(ttl=60.0, max_entries=3, clock=Clock())
    for n in range(3):
        checks.put(f"jti-{n}", _caller(n), checks.generation)
    assert checks.get("jti-0") == _caller(0)  # used again: jti-1 is now the oldest
    checks.put("jti-3", _caller(3), checks.generation)
    assert len(checks) == 3 and checks.get("jti-1") is None
    assert [checks.get(f"jti-{n}") for n in (0, 2, 3)] == [_caller(0), _caller(2), _caller(3)]
