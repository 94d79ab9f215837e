"""Start-up check of the ANS CDA kit: one log line saying where it is and whether it is complete.

The server starts either way (identities, orders, results do not need the kit); without it every step
that produces a CR-Bio answers 503 naming the missing kit and the command that installs it
(``facades.cda.KitError``), instead of failing half-way.
"""

from __future__ import annotations

import logging
from pathlib import Path

from facades.cda.conformance import KitCheck, check_kit, kit_dir, use_data_dir

log = logging.getLogger(__name__)


def check_cda_kit(data_dir: Path) -> KitCheck:
    """Point the validator at ``data_dir``'s installed kit (unless SGL_CDA_KIT_DIR says otherwise) and check it."""
    use_data_dir(data_dir)
    check = check_kit(kit_dir())
    if check.ok:
        log.info(check.summary())
    else:
        log.error(check.summary())
    return check
