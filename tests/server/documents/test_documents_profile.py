"""Lab profile keys for FR Core inputs and mentions (profile.py) and the IPP the PDF prints (compose.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from resources.errors import InvalidInput
from server.documents.compose import ipp_of
from server.documents.profile import DEFAULT_PROFILE, load_profile

PI = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PI"}]}


def _profile(tmp_path: Path, **changes: Any) -> Path:
    """A profile file of its own (``load_profile`` caches by path)."""
    data = {**json.loads(DEFAULT_PROFILE.read_text(encoding="utf-8")), **changes}
    path = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_non_iso_oids_in_the_profile_are_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_profile(_profile(tmp_path, oid_root="1.2.250.1.999.1", identifier_oids={"000897406": "000897406"}))
    assert caught.value.expression == ["$.identifier_oids.000897406"]


@pytest.mark.req("SGL.DOC.09")
def test_autoverification_text_is_the_site_s_on_pdf_and_n3_SGL_DOC_09(tmp_path: Path) -> None:
    profile = load_profile(_profile(tmp_path, autoverification="Texte du site."))
    assert profile.texts().autoverification == "Texte du site." == profile.mentions().autoverification


@pytest.mark.req("SGL.DOC.10")
def test_cofrac_number_becomes_the_lab_accreditation_id_SGL_DOC_10(tmp_path: Path) -> None:
    organization = load_profile(_profile(tmp_path, cofrac_number="8-4321")).organization
    assert {"system": "urn:oid:1.2.250.1.213.6.3.1", "value": "8-4321"} in organization["identifier"]
    without = load_profile(_profile(tmp_path, cofrac_number=None)).organization
    assert all("6.3.1" not in i["system"] for i in without["identifier"])


def test_ipp_is_the_identifier_typed_pi_never_the_fhir_id() -> None:
    ins = {"system": "urn:oid:1.2.250.1.213.1.4.10", "value": "279035121518989"}
    other = {"system": "urn:oid:1.2.250.1.999.1.5", "value": "LOCAL-1"}
    ipp = {"system": "urn:oid:000897406", "type": PI, "value": "000003"}
    old = {"system": "urn:oid:000897406", "type": PI, "value": "000001", "use": "old"}
    assert ipp_of({"id": "abc", "identifier": [ins, other, old, ipp]}) == "000003"
    assert ipp_of({"id": "abc", "identifier": [ins, other]}) == "LOCAL-1"
    assert ipp_of({"id": "abc", "identifier": [ins]}) is None
