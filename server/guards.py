"""The write guards of every workflow, composed per caller (see resources/interactions/guard.py).

A workflow registers ``async def rule(caller, intent) -> resource | None`` for a resource type in
``register_guards`` below; all rules of a type run in registration order, each seeing the resource
the previous one returned.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from resources.interactions import WriteGuard, WriteIntent
from server.access.caller import Caller
from server.settings import Settings

Rule = Callable[[Caller, WriteIntent], Awaitable[dict[str, Any] | None]]


@dataclass
class Guards:
    rules: dict[str, list[Rule]] = field(default_factory=dict)

    def add(self, resource_type: str, rule: Rule) -> None:
        self.rules.setdefault(resource_type, []).append(rule)

    def for_caller(self, caller: Caller) -> WriteGuard:
        async def guard(intent: WriteIntent) -> dict[str, Any] | None:
            resource = intent.proposed
            for rule in self.rules.get(intent.resource_type, []):
                resource = await rule(caller, replace(intent, proposed=resource)) or resource
            return resource
        return guard


def register_guards(guards: Guards, settings: Settings) -> None:
    """Every workflow's write rules, in one place."""
    from server.identity.guard import register_identity_guard

    register_identity_guard(guards, settings)
    from server.validation import register_validation_guards

    register_validation_guards(guards)


def guards_for(settings: Settings) -> Guards:
    """All the rules, for a process that is not the HTTP app (CLI commands)."""
    guards = Guards()
    register_guards(guards, settings)
    return guards
