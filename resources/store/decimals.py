"""Exact decimals in BSON: what ``ExactDecimal`` becomes in MongoDB and what it is read back as.

A float subclass is stored by PyMongo as a BSON double (a ``TypeEncoder`` may not change how a built-in type
is encoded), so the store converts the resources it writes (``to_bson``) and the client decodes them back
(``DECIMAL_CODECS``, on the one client ``server.database.make_client`` builds, for the server and the CLI):

============================  ======================================  =========================================
sent                          stored                                  why
============================  ======================================  =========================================
``5.4``, ``100.0``, ``3``     double / int (unchanged)                a float prints them back as sent
``1.50``, ``-0``, 25 digits   ``Decimal128("1.50")``                  exact up to 34 digits; MongoDB compares it
                                                                      with doubles (a query on ``r`` still works)
``1.0E-3``, ``1E300``         Binary subtype 0x80, the text in UTF-8  Decimal128 would read back as ``0.0010``,
                                                                      ``1E+300``: not the text sent
============================  ======================================  =========================================

Search does not depend on it: the search values extracted at write time are plain floats (``float(v)``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from bson import Binary
from bson.codec_options import TypeDecoder, TypeRegistry
from bson.decimal128 import Decimal128

from resources.decimals import ExactDecimal

DECIMAL_TEXT_SUBTYPE = 0x80
"""The user-defined BSON binary subtype that holds a decimal's text when Decimal128 cannot give it back."""


def _to_bson_value(value: ExactDecimal) -> Decimal128 | Binary:
    try:
        stored = Decimal128(value.text)
    except ArithmeticError:  # more than 34 significant digits: Decimal128 would round
        return Binary(value.text.encode(), DECIMAL_TEXT_SUBTYPE)
    if str(stored.to_decimal()) == value.text:
        return stored
    return Binary(value.text.encode(), DECIMAL_TEXT_SUBTYPE)


def _converted(node: Any) -> Any:
    if isinstance(node, ExactDecimal):
        return _to_bson_value(node)
    if isinstance(node, dict):
        return {k: _converted(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_converted(v) for v in node]
    return node


def to_bson(resource: dict[str, Any] | None) -> dict[str, Any] | None:
    """``resource`` as the store writes it: the same object when it holds no ``ExactDecimal`` (told in one pass
    of orjson in C, about 1 us for an Observation), else a copy with each one as Decimal128 or text."""
    if resource is None:
        return None
    try:
        orjson.dumps(resource)
    except TypeError:  # orjson prints no float subclass: there is an exact decimal somewhere (or a BSON type)
        converted: dict[str, Any] = _converted(resource)
        return converted
    return resource


class _Decimal128Decoder(TypeDecoder):
    bson_type = Decimal128

    def transform_bson(self, value: Any) -> Any:
        number: Decimal = value.to_decimal()
        if not number.is_finite():  # not written by this server; no JSON text for it
            return float(number)
        return ExactDecimal(str(number))


class _DecimalTextDecoder(TypeDecoder):
    bson_type = Binary

    def transform_bson(self, value: Any) -> Any:
        if value.subtype == DECIMAL_TEXT_SUBTYPE:
            return ExactDecimal(bytes(value).decode())
        return value


DECIMAL_CODECS = TypeRegistry([_Decimal128Decoder(), _DecimalTextDecoder()])
"""The decoders a client needs to read exact decimals back as ``ExactDecimal``."""
