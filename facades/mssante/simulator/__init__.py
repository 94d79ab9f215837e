"""A local MSSanté operator on loopback: SMTP submission, IMAP and an admin JSON endpoint.

See :mod:`facades.mssante.simulator.operator` for what it does and ``sgl mssante-simulator``.
"""

from facades.mssante.simulator.mailboxes import Mailboxes
from facades.mssante.simulator.ocsp_responder import OcspResponder
from facades.mssante.simulator.operator import OperatorHandle, run_simulator, start_operator

__all__ = ["Mailboxes", "OcspResponder", "OperatorHandle", "run_simulator", "start_operator"]
