"""Exponential backoff with jitter: attempt n waits about ``base * 2**(n-1)`` seconds (capped), times a random
factor in [0.5, 1.5) so that many items failing together do not come back together."""

from __future__ import annotations

import random


def backoff(attempt: int, base: float, cap: float) -> float:
    delay: float = min(cap, base * 2.0 ** max(0, attempt - 1)) * random.uniform(0.5, 1.5)
    return delay
