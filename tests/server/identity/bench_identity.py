"""Speed of the identity layer (not a test): ``.venv/bin/python -m tests.server.identity.bench_identity``.

1. The Patient write rule alone (in process): decisions per second for an edit of a QUAL identity.
2. End to end over HTTP against a real ``sgl serve`` and the simulated INSi on loopback:
   ``$insi-search`` with apply (INSi call, trace, write through the write rules), and ``$duplicates`` on a birth date
   shared by N identities.
"""

from __future__ import annotations

import asyncio
import copy
import statistics
import tempfile
import time
from pathlib import Path

from facades.insi import start_insi_simulator
from resources.interactions import WriteIntent
from server.access.caller import Caller
from server.identity.policy import IdentityPolicy
from server.identity.write_rules import IdentityRule
from tests.support.access import role_client
from tests.support.identity_samples import parameters, provisional, with_status
from tests.support.identity_servers import insi_env
from tests.support.pki import create_test_pki
from tests.support.sgl_server import start_sgl

RULE_RUNS = 5000
INSI_RUNS = 50
SAME_BIRTH_DATE = 300


async def bench_write_rule() -> None:
    write_rule = IdentityRule(IdentityPolicy(False, True, frozenset(), {}))
    current = await write_rule(Caller("feed", "source-identite"), WriteIntent("Patient", "create", None,
                                                                       with_status(provisional(), "QUAL")))
    assert current is not None
    edit = {**copy.deepcopy(current), "telecom": [{"system": "phone", "value": "0102030405"}]}
    start = time.perf_counter()
    for _ in range(RULE_RUNS):
        await write_rule(Caller("u", "secretaire"), WriteIntent("Patient", "update", current, edit))
    elapsed = time.perf_counter() - start
    print(f"write_rule: {RULE_RUNS / elapsed:,.0f} decisions/s ({elapsed / RULE_RUNS * 1e6:.0f} µs each)")  # noqa: T201


async def bench_http(tmp: Path) -> None:
    pki = create_test_pki(tmp / "pki", client_common_name="INSI-MANU")
    sim = await start_insi_simulator("127.0.0.1", 0, pki.server.cert, pki.server.key, pki.ca.cert)
    server = await asyncio.to_thread(start_sgl, tmp / "var", env=insi_env(pki, sim.url))
    try:
        async with role_client(server.base, server.data_dir, "secretaire", timeout=60) as client:
            body = {k: v for k, v in provisional().items() if k != "id"}
            times = []
            for _ in range(INSI_RUNS):
                pid = (await client.post("Patient", json=body)).json()["id"]
                start = time.perf_counter()
                r = await client.post("Patient/$insi-search", json=parameters(patient=f"Patient/{pid}", apply=True))
                times.append(time.perf_counter() - start)
                assert r.status_code == 200, r.text
            print(f"$insi-search+apply: p50 {statistics.median(times) * 1000:.1f} ms, "  # noqa: T201
                  f"max {max(times) * 1000:.1f} ms over {INSI_RUNS}")
            twins = {**body, "birthDate": "1950-01-01"}
            for i in range(SAME_BIRTH_DATE):
                await client.post("Patient", json={**twins, "name": [{"use": "official", "family": f"NOM{i}",
                                                                      "given": ["ANNE"]}]})
            start = time.perf_counter()
            r = await client.get("Patient/$duplicates", params={"birthdate": "1950-01-01", "name": "nom29"})
            elapsed = time.perf_counter() - start
            print(f"$duplicates among {SAME_BIRTH_DATE} same-day identities: {elapsed * 1000:.1f} ms, "  # noqa: T201
                  f"{r.json()['total']} match(es)")
    finally:
        await asyncio.to_thread(server.stop)
        await sim.stop()


async def main() -> None:
    await bench_write_rule()
    with tempfile.TemporaryDirectory() as tmp:
        await bench_http(Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
