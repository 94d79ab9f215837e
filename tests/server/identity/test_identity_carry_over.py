"""``carry_over`` bounds: past ``MAX_CARRIED`` resources the merge is refused before anything is written."""

from __future__ import annotations

import pytest

from resources.errors import RuleViolation
from server.database import Database
from server.identity import carry_over

pytestmark = pytest.mark.db


async def test_too_many_resources_refuse_the_merge_and_write_nothing(sgl_db: Database,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = sgl_db.store
    dup, kept = [(await store.create({"resourceType": "Patient", "gender": "female"})).id for _ in range(2)]
    made = [await store.create({"resourceType": "Specimen", "subject": {"reference": f"Patient/{dup}"}})
            for _ in range(3)]
    monkeypatch.setattr(carry_over, "MAX_CARRIED", 2)
    with pytest.raises(RuleViolation, match="more than 2 resources"):
        async with store.transaction() as session:
            await carry_over.carry_over(store, dup, kept, session=session)
    for specimen in made:
        now = await store.read("Specimen", specimen.id)
        assert now.vid == 1 and now.resource and now.resource["subject"] == {"reference": f"Patient/{dup}"}
    monkeypatch.setattr(carry_over, "MAX_CARRIED", 3)
    async with store.transaction() as session:
        written = await carry_over.carry_over(store, dup, kept, session=session)
    assert sorted(written) == sorted(f"Specimen/{s.id}/_history/2" for s in made)
