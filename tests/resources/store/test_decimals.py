"""Exact decimals in the store (``resources/store/decimals.py``) on the embedded SecantusDB: stored as
Decimal128 or as text, read back with the digits sent by the client ``server.database`` builds, and still
found by a query on the stored resource, with and without an index, next to doubles written before."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from bson import Binary
from bson.codec_options import CodecOptions
from bson.decimal128 import Decimal128

from resources.fhirjson import dumps, loads
from resources.store.decimals import DECIMAL_TEXT_SUBTYPE
from server.database import Database

pytestmark = pytest.mark.db
VALUES = ["1.50", "0.0010", "1.0E-3", "123456789012345678901234.5", "-0", "5.4", "2"]


def _observation(value: str) -> dict[str, Any]:
    return loads(('{"resourceType":"Observation","status":"preliminary","code":{"text":"glucose"},'
                  '"valueQuantity":{"value":' + value + ',"unit":"g/L"}}').encode())


async def test_exact_decimals_are_stored_as_decimal128_or_text_and_read_back_as_sent(sgl_db: Database) -> None:
    stored = {v: await sgl_db.store.create(_observation(v)) for v in VALUES}
    raw = sgl_db.db["Observation"].with_options(codec_options=CodecOptions(tz_aware=False))
    kinds = {}
    for text, version in stored.items():
        doc = await raw.find_one({"_id": version.id})
        assert doc is not None
        kinds[text] = doc["r"]["valueQuantity"]["value"]
        read = await sgl_db.store.read("Observation", version.id)
        assert dumps(read.resource["valueQuantity"]) == f'{{"value":{text},"unit":"g/L"}}'.encode()
    assert kinds["1.50"] == Decimal128("1.50") and kinds["0.0010"] == Decimal128("0.0010")
    assert kinds["-0"] == Decimal128("-0") and kinds["123456789012345678901234.5"] == Decimal128(
        "123456789012345678901234.5")
    assert kinds["1.0E-3"] == Binary(b"1.0E-3", DECIMAL_TEXT_SUBTYPE)  # Decimal128 would give back 0.0010
    assert type(kinds["5.4"]) is float and type(kinds["2"]) is int


async def test_a_query_on_the_stored_value_compares_decimal128_with_doubles_with_and_without_an_index(
        sgl_db: Database) -> None:
    collection = sgl_db.db[f"decimals_{uuid.uuid4().hex[:8]}"]
    await collection.insert_many([{"v": Decimal128("1.50")}, {"v": 1.5}, {"v": 1.49}, {"v": Decimal128("1.51")},
                                  {"v": Decimal128("-0")}, {"v": 2}])
    for indexed in (False, True):
        if indexed:
            await collection.create_index("v")
        found = [d["v"] async for d in collection.find({"v": {"$gte": 1.5}}, {"_id": 0}).sort("v", 1)]
        assert [float(v) for v in found] == [1.5, 1.5, 1.51, 2.0], indexed
        exact = [d["v"] async for d in collection.find({"v": Decimal128("1.5")}, {"_id": 0})]
        assert len(exact) == 2, indexed
    await collection.drop()
