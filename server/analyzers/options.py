"""Parsing options where real analyzers differ, one small typed object per partner.

The defaults accept the common vendor forms without configuration:

- ``test_code``: ``auto`` reads the test code from OBX-3.1, else OBX-3.4 (the alternate identifier);
  on ASTM from R.3 component 4, else component 5. ``primary`` / ``alternate`` pin one.
- ``charset`` (ASTM, whose messages do not declare one): ``auto`` reads UTF-8 when the bytes are
  valid UTF-8 (``µ`` sent as two bytes) and Latin-1 otherwise; or a Python codec name.
- ``max_frame`` (ASTM): the longest frame accepted. E1381 says 240 characters of text, but several
  instruments send a whole message in one frame: 64 KiB by default, bounded so a broken sender
  cannot hold memory.

The socket partner registry (``sgl partners``) attaches options to a partner; until it does,
``options_for`` gives the defaults to everyone. The ASTM listener reads the character set and frame
limit before it knows the partner: for it they are ``SGL_ASTM_CHARSET`` / ``SGL_ASTM_MAX_FRAME``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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


def options_for(partner: str) -> PartnerOptions:
    """The options of a partner (HL7 MSH-3, ASTM H.5 sender name): the defaults for now."""
    return DEFAULTS
