"""The list of channel modules: importing one registers its channel (``register_channel``).

One line per channel; the dmp and mssante lanes add theirs here. Imported by the outbox at start-up.
"""

from __future__ import annotations

from server.delivery import (
    dmp_channel,  # noqa: F401  (registers "dmp": CR-Bio to the DMP, facades/dmp)
    hl7v2_channel,  # noqa: F401  (registers "hl7v2": results to the hospital EHRs)
    mssante_channel,  # noqa: F401  (registers "mssante": CR-Bio mails, issue 14)
)
from server.delivery.channel import Channel, build_channels


def configured_channels(context: object) -> list[Channel]:
    """Import every channel module (registration), then build those the settings configure."""
    return build_channels(context)
