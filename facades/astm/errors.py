"""Errors of the ASTM facade, ordered by what the caller can do about them::

    InvalidInput (resources.errors)       reject the message; the sender must fix it
    └── AstmRecordError                   an E1394 record or field is malformed or cannot be built;
                                          names the record type, its line in the message and the field
    Unavailable (resources.errors)        retry later
    └── AstmLinkError                     the E1381 link failed: peer NAKed too often, timed out,
                                          or closed the connection before the transfer ended

Framing errors on the receiving side are not exceptions: the receiver answers NAK and the sender
retransmits, as E1381 prescribes.
"""

from __future__ import annotations

from resources.errors import InvalidInput, Unavailable


class AstmRecordError(InvalidInput):
    """A record that cannot be parsed or built, located as ``<type> line <n>, <type>.<field>``."""

    def __init__(self, diagnostics: str, *, record_type: str, line: int | None = None,
                 field: int | None = None) -> None:
        where = f"{record_type} record" + (f" at line {line}" if line is not None else "")
        if field is not None:
            where += f", field {record_type}.{field}"
        expression = f"{record_type}" + (f" line {line}" if line is not None else "")
        if field is not None:
            expression += f", {record_type}.{field}"
        super().__init__(f"{where}: {diagnostics}", expression=expression)
        self.record_type = record_type
        self.line = line
        self.field = field


class AstmLinkError(Unavailable):
    """The low-level (E1381) transfer did not complete; nothing was acknowledged by the peer."""

    def __init__(self, diagnostics: str) -> None:
        super().__init__(diagnostics, expression="ASTM E1381")
