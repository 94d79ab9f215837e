"""The write-rule core: who is acting and the rules every write passes (see resources/interactions/write_rules.py).

A workflow offers ``async def rule(caller, intent) -> resource | None`` for a resource type and
``server/wiring.py`` registers it; all rules of a type run in registration order, each seeing the
resource the previous one returned. This module imports no workflow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from resources.interactions import WriteIntent, WriteRule
from server.access.caller import Caller

Rule = Callable[[Caller, WriteIntent], Awaitable[dict[str, Any] | None]]


@dataclass
class WriteRules:
    rules: dict[str, list[Rule]] = field(default_factory=dict)
    after: dict[str, list[Rule]] = field(default_factory=dict)
    """Rules that run once the write is made (``WriteIntent.written``), in its transaction: they see the
    stored resource (a create's id, the other entries of a transaction Bundle) and may write beside it."""

    def add(self, resource_type: str, rule: Rule) -> None:
        self.rules.setdefault(resource_type, []).append(rule)

    def add_after(self, resource_type: str, rule: Rule) -> None:
        """``rule`` runs after each create and update of ``resource_type``, in the same transaction."""
        self.after.setdefault(resource_type, []).append(rule)

    def for_caller(self, caller: Caller) -> WriteRule:
        async def write_rule(intent: WriteIntent) -> dict[str, Any] | None:
            if intent.written:
                for after in self.after.get(intent.resource_type, []):
                    await after(caller, intent)
                return None
            resource = intent.proposed
            for rule in self.rules.get(intent.resource_type, []):
                resource = await rule(caller, replace(intent, proposed=resource)) or resource
            return resource
        return write_rule
