"""What an identity operation works with: the store, the settings, who acts and the write rules.

The REST routes build it from the request; ``sgl identity verify-all`` builds it from the opened
database, so both paths read, call INSi and write Patients the same way (through the write rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resources import interactions
from resources.errors import Gone, RuleViolation
from resources.interactions import WriteRule, stamped
from resources.store.base import FhirStore
from server.access.caller import Caller
from server.identity.attestation import Attestation
from server.identity.policy import IdentityPolicy
from server.identity.roles import Profile, profile
from server.identity.vocabulary import BLOCKING_ATTRIBUTES, attributes
from server.settings import Settings


@dataclass(frozen=True)
class Scope:
    store: FhirStore
    settings: Settings
    caller: Caller
    write_rule: WriteRule

    @property
    def profile(self) -> Profile:
        return profile(self.caller.role)

    @property
    def policy(self) -> IdentityPolicy:
        return IdentityPolicy.from_settings(self.settings)

    async def patient(self, pid: str) -> tuple[dict[str, Any], int]:
        stored = await self.store.read("Patient", pid)
        if stored.resource is None:
            raise Gone(f"Patient/{pid} was deleted", expression="Patient.id")
        return stored.resource, stored.vid

    async def write(self, patient: dict[str, Any], vid: int, attestation: Attestation) -> dict[str, Any]:
        """Update the Patient through the write rules, vouching for ``attestation``; stale versions give 412."""
        outcome = await interactions.update(self.store, "Patient", patient["id"], patient, if_match=f'W/"{vid}"',
                                            write_rule=stamped(self.write_rule, attestation=attestation))
        return outcome.resource or patient


def refuse_if_doubtful(patient: dict[str, Any]) -> None:
    """SGL.INS.28: no INSi call for an identity marked douteuse or fictive."""
    marked = attributes(patient) & BLOCKING_ATTRIBUTES
    if marked:
        raise RuleViolation("SGL.INS.28", f"the identity is marked {'/'.join(sorted(marked))}: INSi calls are blocked",
                            expression="Patient.extension('identity-attribute')")
