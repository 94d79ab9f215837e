"""Identity attributes are read the same whether a user set them or the PAM-FR feed did (SGL.INS.27)."""

from __future__ import annotations

import pytest

from resources.ins import IDENTITY_RELIABILITY_URL
from server.identity.vocabulary import BLOCKING_ATTRIBUTES, attribute_extension, attributes


@pytest.mark.req("SGL.INS.27")
def test_fed_pid32_comments_count_as_doubtful_or_fictive_SGL_INS_27() -> None:
    fed = {"resourceType": "Patient", "extension": [{"url": IDENTITY_RELIABILITY_URL, "extension": [
        {"url": "identityStatus", "valueCoding": {"code": "PROV"}},
        {"url": "comment", "valueCoding": {"code": "DOUT"}},
        {"url": "comment", "valueCoding": {"code": "HOMD"}},
    ]}]}
    assert attributes(fed) == {"DOUTE", "HOMD"}
    assert attributes(fed) & BLOCKING_ATTRIBUTES == {"DOUTE"}
    entered = {"resourceType": "Patient", "extension": [attribute_extension("FICTI")]}
    assert attributes(entered) & BLOCKING_ATTRIBUTES == {"FICTI"}
    assert attributes({"resourceType": "Patient"}) == set()
