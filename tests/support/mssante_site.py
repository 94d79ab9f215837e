"""An MSSanté end-to-end site for one test module: a real ``sgl mssante-simulator`` (the operator) and a
dedicated ``sgl serve`` (``delivery_lab``) configured to reach it through ``SGL_MSS_*``.

The end-to-end modules (automatic and manual sending, refused-tube notices, SGL.DOC.02's two versions) each
need their own pair, since what differs between them is read at the server's start: the lab's mailbox (BAL),
the addresses the operator bounces, and server settings (``SGL_MSS_AUTOMATIC``, receipt polling, delivery
attempts...). ``mssante_fixtures`` makes the two module-scoped fixtures from those differences alone, so every
module starts, configures and stops its pair the same way (the operator is stopped after the server, even
when the server failed to start).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.support.delivery_lab import DeliveryLab, delivery_lab
from tests.support.mssante_operator import OperatorProcess, start_operator_process


def mssante_fixtures(name: str, bal: str, *, unknown: tuple[str, ...] = (), lab_fixture: str = "dl",
                     **settings: str) -> tuple[Any, Any]:
    """The module fixtures ``operator`` and ``lab_fixture`` (a ``DeliveryLab``): the simulator with mailbox
    ``bal`` bouncing the ``unknown`` addresses, and a server with the operator's ``SGL_MSS_*`` plus ``settings``.
    Assign both at module level: ``operator, dl = mssante_fixtures("mss-hospital", BAL, SGL_MSS_AUTOMATIC="false")``.
    """

    @pytest.fixture(scope="module", name="operator")
    def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OperatorProcess]:
        handle = start_operator_process(tmp_path_factory.mktemp(f"{name}-op") / "pki", bal, unknown=unknown)
        try:
            yield handle
        finally:
            handle.stop()

    @pytest.fixture(scope="module", name=lab_fixture)
    async def lab(tmp_path_factory: pytest.TempPathFactory, operator: OperatorProcess) -> AsyncIterator[DeliveryLab]:
        async with delivery_lab(tmp_path_factory.mktemp(name) / "var", operator.env(**settings)) as site:
            yield site

    return operator, lab
