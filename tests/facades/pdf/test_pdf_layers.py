"""facades.pdf imports nothing from the server or from another facade, in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_package_imports_nothing_from_server_or_other_facades() -> None:
    code = ("import sys, facades.pdf; print(' '.join(m for m in sys.modules if m.split('.')[0] == 'server' "
            "or (m.startswith('facades.') and not m.startswith('facades.pdf'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, timeout=60,
                         cwd=Path(__file__).parents[3], text=True)
    assert out.stdout.split() == []
