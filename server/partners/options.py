"""Parsing options where real analyzers differ, one small typed object per partner.

They belong to the partner's registration (``sgl partners add ... --option test_code=alternate``): the
registry checks them when a partner is added, the analyzer handlers read them for each message.

The defaults accept the common vendor forms without configuration:

- ``test_code``: ``auto`` reads the test code from OBX-3.1, else OBX-3.4 (the alternate identifier);
  on ASTM from R.3 component 4, else component 5. ``primary`` / ``alternate`` pin one.
- ``charset`` (ASTM, whose messages do not declare one): ``auto`` reads UTF-8 when the bytes are
  valid UTF-8 (``µ`` sent as two bytes) and Latin-1 otherwise; or a Python codec name.
- ``max_frame`` (ASTM): the longest frame accepted. E1381 says 240 characters of text, but several
  instruments send a whole message in one frame: 64 KiB by default, bounded so a broken sender
  cannot hold memory.

``test_code`` is read per partner. The ASTM listener reads the character set and frame limit before it
knows the partner (the H record comes inside the first frame): for it they are listener-wide settings,
``SGL_ASTM_CHARSET`` / ``SGL_ASTM_MAX_FRAME``, and a partner cannot set them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

from resources.errors import InvalidInput

DEFAULT_MAX_FRAME = 64 * 1024


@dataclass(frozen=True)
class PartnerOptions:
    test_code: Literal["auto", "primary", "alternate"] = "auto"
    charset: str = "auto"
    max_frame: int = DEFAULT_MAX_FRAME

    def __post_init__(self) -> None:
        if self.max_frame < 247:  # STX FN 240 text ETX C1 C2 CR LF
            raise ValueError(f"max_frame {self.max_frame} is below the E1381 frame size")


DEFAULTS = PartnerOptions()


TEST_CODES = ("auto", "primary", "alternate")
PER_PARTNER = ("test_code",)
"""The options a partner may set (the others are the ASTM listener's, see above)."""


def parse_options(raw: Mapping[str, str]) -> PartnerOptions:
    """A partner's stored ``KEY=VALUE`` options as the typed object; an unknown key or value is refused
    with the accepted ones named, so a typo is caught when the partner is registered, not at its first message."""
    unknown = sorted(set(raw) - set(PER_PARTNER))
    if unknown:
        raise InvalidInput(f"unknown partner option {', '.join(unknown)}; options: {', '.join(PER_PARTNER)}",
                           expression="option")
    test_code = raw.get("test_code", DEFAULTS.test_code)
    if test_code not in TEST_CODES:
        raise InvalidInput(f"test_code={test_code!r}: one of {', '.join(TEST_CODES)}", expression="option")
    return PartnerOptions(test_code=cast(Literal["auto", "primary", "alternate"], test_code))
