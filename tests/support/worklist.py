"""Read the server's worklist Tasks (``server/worklist.py``) as a client would."""

from __future__ import annotations

from typing import Any

import httpx

WORKLIST_SYSTEM = "https://opensgl.org/fhir/CodeSystem/worklist"


async def worklist(client: httpx.AsyncClient, code: str, focus: str) -> list[dict[str, Any]]:
    answer = await client.get("Task", params={"code": f"{WORKLIST_SYSTEM}|{code}", "focus": focus})
    assert answer.status_code == 200, answer.text
    return [e["resource"] for e in answer.json().get("entry", ()) if e["search"]["mode"] == "match"]
