"""The HL7 v2 message model: message -> segments -> fields -> repetitions -> components -> sub-components.

Leaves hold the raw (escaped) ER7 text, so a parsed message serialises back unchanged; accessors
decode on read and builders encode on write (see ``escape``). Positions are 1-based as in the
standard. The MSH quirk is kept explicit: MSH-1 is the field separator itself and MSH-2 the encoding
characters, so ``msh.field(9)`` is the message type as everywhere else. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from facades.hl7v2.escape import DEFAULT_ENCODING, EncodingChars, decode, encode
from facades.hl7v2.location import ErrorLocation

T = TypeVar("T")

# repetitions -> components -> sub-components, raw text at the leaves
RawField = list[list[list[str]]]


class Field:
    """One field with its repetitions; ``str(field)`` is its ER7 text."""

    __slots__ = ("repetitions", "enc")

    def __init__(self, repetitions: RawField, enc: EncodingChars = DEFAULT_ENCODING) -> None:
        self.repetitions = repetitions
        self.enc = enc

    @classmethod
    def from_er7(cls, raw: str, enc: EncodingChars = DEFAULT_ENCODING) -> Field:
        """Split a raw field on the repetition, component and sub-component separators."""
        if not any(c in raw for c in (enc.repetition, enc.component, enc.subcomponent)):
            return cls([[[raw]]], enc)
        return cls([[comp.split(enc.subcomponent) for comp in rep.split(enc.component)]
                    for rep in raw.split(enc.repetition)], enc)

    @classmethod
    def literal(cls, raw: str, enc: EncodingChars = DEFAULT_ENCODING) -> Field:
        """A field kept as one unsplit leaf (MSH-1 and MSH-2)."""
        return cls([[[raw]]], enc)

    @classmethod
    def of(cls, *components: str | Sequence[str] | None, enc: EncodingChars = DEFAULT_ENCODING) -> Field:
        """A one-repetition field from plain-text components (a sequence gives sub-components).

        Text is escaped; ``None`` is an empty component; trailing empty parts are dropped.
        """
        comps: list[list[str]] = []
        for comp in components:
            subs = [comp] if comp is None or isinstance(comp, str) else list(comp)
            comps.append(_trim([encode(s or "", enc) for s in subs], "") or [""])
        comps = _trim(comps, [""]) or [[""]]
        return cls([comps], enc)

    @classmethod
    def repeat(cls, fields: Iterable[Field], enc: EncodingChars = DEFAULT_ENCODING) -> Field:
        """One field whose repetitions are those of ``fields`` (empty ones skipped)."""
        reps = [rep for f in fields for rep in f.repetitions if rep != [[""]]]
        return cls(reps or [[[""]]], enc)

    def __str__(self) -> str:
        e = self.enc
        return e.repetition.join(e.component.join(e.subcomponent.join(c) for c in rep)
                                 for rep in self.repetitions)

    def __repr__(self) -> str:
        return f"Field({str(self)!r})"

    def __len__(self) -> int:
        """The number of repetitions; 0 for an empty field."""
        return 0 if self.is_empty else len(self.repetitions)

    @property
    def is_empty(self) -> bool:
        return self.repetitions == [[[""]]]

    @property
    def is_null(self) -> bool:
        """The HL7 explicit null ``""``: the receiver must delete the stored value."""
        return str(self) == '""'

    def repetition(self, n: int = 1) -> Field:
        """The n-th repetition as a field of its own (empty when absent)."""
        if 1 <= n <= len(self.repetitions):
            return Field([self.repetitions[n - 1]], self.enc)
        return Field([[[""]]], self.enc)

    def raw(self, component: int = 1, subcomponent: int = 1, repetition: int = 1) -> str:
        """The escaped text at a position, '' when absent."""
        reps = self.repetitions
        if not 1 <= repetition <= len(reps):
            return ""
        comps = reps[repetition - 1]
        if not 1 <= component <= len(comps):
            return ""
        subs = comps[component - 1]
        return subs[subcomponent - 1] if 1 <= subcomponent <= len(subs) else ""

    def value(self, component: int = 1, subcomponent: int = 1, repetition: int = 1) -> str:
        """The plain text at a position, '' when absent."""
        return decode(self.raw(component, subcomponent, repetition), self.enc)


def _trim(items: list[T], empty: T) -> list[T]:
    """Drop trailing empty items (HL7 omits trailing delimiters)."""
    end = len(items)
    while end and items[end - 1] == empty:
        end -= 1
    return items[:end]


class Segment:
    """One segment; ``fields[0]`` is field 1 (for MSH: the field separator)."""

    __slots__ = ("name", "fields", "enc")

    def __init__(self, name: str, fields: list[Field] | None = None,
                 enc: EncodingChars = DEFAULT_ENCODING) -> None:
        self.name = name
        self.fields = fields if fields is not None else []
        self.enc = enc
        if name == "MSH" and not self.fields:
            self.fields = [Field.literal(enc.field, enc), Field.literal(enc.msh2, enc)]

    def __repr__(self) -> str:
        return f"Segment({self.to_er7()!r})"

    def field(self, n: int) -> Field:
        """Field n (1-based), an empty field when the segment is shorter."""
        if n < 1:
            raise IndexError(f"HL7 field positions start at 1, got {n}")
        return self.fields[n - 1] if n <= len(self.fields) else Field([[[""]]], self.enc)

    def get(self, path: str | int, repetition: int = 1) -> str:
        """Plain text at ``"n"``, ``"n.c"`` or ``"n.c.s"`` (e.g. ``pid.get("3.4.2")``)."""
        parts = [int(p) for p in str(path).split(".")]
        if len(parts) > 3:
            raise ValueError(f"HL7 path {path!r} has more than field.component.subcomponent")
        if self.name == "MSH" and parts[0] in (1, 2):
            return self.field(parts[0]).raw()
        comp, sub = (parts + [1, 1])[1:3]
        return self.field(parts[0]).value(comp, sub, repetition)

    def set(self, n: int, value: Field | str | None) -> None:
        """Set field n from a field or plain text (escaped), padding with empty fields."""
        if n < 1:
            raise IndexError(f"HL7 field positions start at 1, got {n}")
        if self.name == "MSH" and n <= 2:
            raise ValueError("MSH-1 and MSH-2 are the encoding characters; build the segment with them")
        field = value if isinstance(value, Field) else Field.of(value, enc=self.enc)
        while len(self.fields) < n:
            self.fields.append(Field([[[""]]], self.enc))
        self.fields[n - 1] = field

    def to_er7(self) -> str:
        sep = self.enc.field
        fields = self.fields[1:] if self.name == "MSH" else self.fields
        return sep.join([self.name, *(str(f) for f in fields)])


class Hl7Message:
    """A parsed or built message: its segments in order and its encoding characters."""

    __slots__ = ("segments_list", "enc")

    def __init__(self, segments: list[Segment], enc: EncodingChars = DEFAULT_ENCODING) -> None:
        self.segments_list = segments
        self.enc = enc

    def __repr__(self) -> str:
        kind = f"{self.message_type}^{self.trigger_event}"
        return f"Hl7Message({kind} {self.control_id!r}, {len(self.segments_list)} segments)"

    def segment(self, name: str) -> Segment | None:
        """The first segment with that id, or None."""
        return next((s for s in self.segments_list if s.name == name), None)

    def segments(self, name: str | None = None) -> list[Segment]:
        """All segments with that id in message order (all segments when ``name`` is None)."""
        return [s for s in self.segments_list if name is None or s.name == name]

    def locate(self, segment: Segment, field: int | None = None,
               component: int | None = None) -> ErrorLocation:
        """The ERL location of a segment of this message (its occurrence among same-id segments)."""
        same = [s for s in self.segments_list if s.name == segment.name]
        sequence = next((i for i, s in enumerate(same, 1) if s is segment), None)
        if sequence is None:
            raise ValueError(f"segment {segment.name} is not part of this message")
        return ErrorLocation(segment.name, sequence, field, None, component)

    @property
    def msh(self) -> Segment:
        msh = self.segment("MSH")
        if msh is None:
            raise ValueError("message has no MSH segment")
        return msh

    @property
    def message_type(self) -> str:
        return self.msh.get("9.1")

    @property
    def trigger_event(self) -> str:
        return self.msh.get("9.2")

    @property
    def control_id(self) -> str:
        return self.msh.get("10")

    @property
    def version(self) -> str:
        return self.msh.get("12.1")

    @property
    def charset(self) -> str:
        """MSH-18 (first repetition): the character set of the whole message."""
        return self.msh.get("18")

    def to_er7(self, terminator: str = "\r") -> str:
        """ER7 text, every segment followed by ``terminator`` (CR per the standard)."""
        return "".join(s.to_er7() + terminator for s in self.segments_list)
