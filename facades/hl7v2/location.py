"""Where an error sits in a message: HL7 2.5 ERL (ERR-2).

Segment id, segment occurrence, field, field repetition, component, sub-component. It also renders as
the ``expression`` of a FHIR issue (``PID[1]-3[2].4``). A leaf module: the message model and the
error tree both import it, and it imports neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorLocation:
    """Where an error sits in a message (HL7 ERL); positions are 1-based, None when unknown."""

    segment: str
    sequence: int = 1
    field: int | None = None
    repetition: int | None = None
    component: int | None = None
    subcomponent: int | None = None

    def parts(self) -> list[str]:
        """The ERL components as strings, trailing unknowns dropped."""
        values = [self.segment, self.sequence, self.field, self.repetition, self.component, self.subcomponent]
        out = ["" if v is None else str(v) for v in values]
        while out and not out[-1]:
            out.pop()
        return out

    def expression(self) -> str:
        """A compact path such as ``PID[1]-3[2].4.1`` for logs and FHIR issues."""
        text = f"{self.segment}[{self.sequence}]"
        if self.field is not None:
            text += f"-{self.field}"
            if self.repetition is not None:
                text += f"[{self.repetition}]"
            if self.component is not None:
                text += f".{self.component}"
                if self.subcomponent is not None:
                    text += f".{self.subcomponent}"
        return text


# ``ErrorLocation.expression()`` read back: SEG[seq]-field[rep].comp.sub
_PATH = re.compile(r"^([A-Z][A-Z0-9]{2})\[(\d+)\](?:-(\d+)(?:\[(\d+)\])?(?:\.(\d+)(?:\.(\d+))?)?)?$")


def location_from_expression(expression: str) -> ErrorLocation | None:
    """The location an ``expression()`` string names, None for anything else (a FHIRPath...)."""
    match = _PATH.match(expression)
    if match is None:
        return None
    segment, *numbers = match.groups()
    sequence, field, repetition, component, subcomponent = (int(n) if n else None for n in numbers)
    return ErrorLocation(segment, sequence or 1, field, repetition, component, subcomponent)
