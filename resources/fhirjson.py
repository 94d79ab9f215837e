"""FHIR JSON in and out: exact, fast (orjson) and canonical, so that a content hash is stable.

Exact both ways. A decimal that a float would change (``1.50``, ``1.0E-3``, 25 digits, ``-0``) is read as an
``ExactDecimal`` and written back with its digits as sent: FHIR says a decimal's precision is significant. An
object with the same key twice is refused (400, naming the key's path), since last-one-wins would store what
one reading of the sender's document does not say (RFC 8259: names SHOULD be unique).

Reading is two passes: orjson checks the body as before (syntax, UTF-8, nesting, array length; its messages),
then the standard library's C parser reads it again with hooks that see every object's pairs and every
number's text. That second pass is what a body costs more than before (about 20 us for a lab Observation of
1 kB, measured in ``docs/exact-json.md``); orjson alone cannot tell a duplicate key nor give a number's text.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import orjson

from resources.decimals import ExactDecimal, json_number
from resources.errors import InvalidInput

MAX_DEPTH = 100
"""Deepest nesting of objects and arrays a request body may have. Real FHIR stays far below it (a transaction
Bundle of Questionnaires with items ten deep is about 30); the code after the parser (validation, the audit,
the store) walks resources recursively and hit Python's recursion limit from about 200 levels on, a 500 or a
dropped connection, while orjson itself only refuses from 1024 levels on."""

MAX_ITEMS = 10_000
"""Longest array a request body may hold. A Patient with 100,000 identifiers (1.9 MB, under the body size limit)
kept the server busy for minutes and left every other client unanswered meanwhile (indexing grows faster than
the array); 10,000 leaves room for the largest real bodies (a transaction of a few thousand entries)."""

DOCUMENT_MAX_ITEMS = 1_000_000
"""The same for a document import read in bulk (a ConceptMap of every LOINC code), within its own size limit."""


class TooLong(InvalidInput):
    """A request body with an array longer than ``MAX_ITEMS``: 400, issue ``too-long``, nothing processed."""

    issue_code = "too-long"


class DuplicateKey(InvalidInput):
    """A JSON object with the same key twice: 400, issue ``structure``, the expression names the key's path."""

    issue_code = "structure"


class _Repeated(Exception):
    """Raised inside the parser at the first object holding a key twice (its path is found afterwards)."""


class _Marked(dict[str, Any]):
    """The object that holds a repeated key, marked so the path to it can be found in the parsed document."""

    repeated = ""


def loads(body: bytes | str, *, max_items: int = MAX_ITEMS) -> Any:
    """Parse a request body, turning a JSON syntax error, a body nested deeper than ``MAX_DEPTH`` or an array
    longer than ``max_items`` into a 400 that says what is wrong. Every request body is read here, so this is
    the one place the shape is checked (a document import, read in bulk, passes its own ``max_items``), a key
    twice is refused (``DuplicateKey``) and a decimal a float would change is kept (``ExactDecimal``)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"malformed JSON: {exc}") from exc
    if isinstance(body, str):
        body = body.encode()
    if isinstance(data, (dict, list)) and (body.count(b"[") + body.count(b"{") > MAX_DEPTH
                                           or body.count(b",") >= max_items):
        _check_shape(data, max_items)  # fewer openers cannot nest deeper, fewer commas list less: most stop here
    if not isinstance(data, (dict, list)):
        return data
    try:
        return json.loads(body, object_pairs_hook=_unique_object, parse_float=json_number, parse_int=_integer)
    except _Repeated:
        raise _duplicate_key(body) from None
    except (ValueError, RecursionError) as exc:  # what orjson read, this parser reads too: never a 500 though
        raise InvalidInput(f"malformed JSON: {exc}") from exc


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Repeated
    return obj


_INT64_DIGITS = 19


def _integer(text: str) -> int | float:
    """A JSON integer: a plain int, except ``-0`` (an int has no sign for zero) and those past a 64-bit signed
    integer (orjson reads up to 2**64 - 1; BSON stores signed 64 bits), kept as ``ExactDecimal``."""
    if text == "-0" or (len(text) >= _INT64_DIGITS and not -2**63 <= int(text) < 2**63):
        return ExactDecimal(text)
    return int(text)


def _duplicate_key(body: bytes | str) -> DuplicateKey:
    """Read ``body`` again, marking the first object with a repeated key, and name the key by its path."""

    def mark(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        seen: set[str] = set()
        marked = _Marked(obj)
        marked.repeated = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        return marked

    data = json.loads(body, object_pairs_hook=mark)
    path, key = _path_to_marked(data)
    return DuplicateKey(f"the JSON body has the key {key!r} twice in one object ({path}); "
                        "which one is meant is ambiguous, nothing was stored", expression=path)


def _path_to_marked(data: Any) -> tuple[str, str]:
    """The FHIRPath-like path (``Bundle.entry[1].resource.status``) of the repeated key and the key, found in
    document order without recursion."""
    root = data.get("resourceType") if isinstance(data, dict) else None
    stack: list[tuple[Any, str]] = [(data, root if isinstance(root, str) else "$this")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, _Marked):
            return f"{path}.{node.repeated}", node.repeated
        if isinstance(node, dict):
            stack.extend((v, f"{path}.{k}") for k, v in reversed(node.items()) if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(node)))
                         if isinstance(v, (dict, list)))
    return "$this", ""  # not reached: the first pass found a repeated key


def _check_shape(data: Any, max_items: int) -> None:
    """Refuse ``data`` nested deeper than ``MAX_DEPTH`` or with an array longer than ``MAX_ITEMS``, level by
    level without recursion (a deep body cannot exhaust the recursion limit here either)."""
    level: list[Any] = [data]
    for _ in range(MAX_DEPTH):
        below: list[Any] = []
        for node in level:
            if isinstance(node, list) and len(node) > max_items:
                raise TooLong(f"the JSON body has an array of {len(node)} items, more than the {max_items} this "
                              "server accepts")
            children = node.values() if isinstance(node, dict) else node
            below.extend(child for child in children if isinstance(child, (dict, list)))
        if not below:
            return
        level = below
    raise InvalidInput(f"the JSON body is nested deeper than the {MAX_DEPTH} levels this server accepts")


def _verbatim(value: Any) -> orjson.Fragment:
    """orjson's fallback for what it cannot print: an ``ExactDecimal`` goes out as the text it came in as."""
    if isinstance(value, ExactDecimal):
        return orjson.Fragment(value.text)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(data: Any, *, option: int = 0) -> bytes:
    """orjson's output, with every ``ExactDecimal`` as sent (the fallback runs only when one is present)."""
    return orjson.dumps(data, default=_verbatim, option=option)


def content_hash(resource: dict[str, Any]) -> str:
    """Hash of the resource without its server-managed ``meta`` fields: equal hashes mean a no-op update."""
    meta = {k: v for k, v in (resource.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}
    body = {k: v for k, v in resource.items() if k not in ("meta", "id")}
    if meta:
        body["meta"] = meta
    return hashlib.sha256(dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def instant(moment: datetime) -> str:
    """A stored naive-UTC datetime as a FHIR instant (``2024-05-02T06:15:00.000Z``)."""
    return moment.isoformat(timespec="milliseconds") + "Z"
