"""INS Datamatrix: content from a FHIR Patient, parsing in any order, ECC200 image that decodes back."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from facades.pdf.datamatrix import (
    HEADER,
    decode_datamatrix_png,
    ins_datamatrix_content,
    parse_ins_datamatrix,
    render_datamatrix_png,
)
from facades.pdf.errors import DatamatrixError
from resources.ins import OID_INS_NIR, ins_identifier_for
from tests.support.pdf_samples import PAT_TROIS_DATAMATRIX, ans_test_patient

VECTORS = json.loads((Path(__file__).parents[3] / ".." / "shared" / "kits" / "ins-datamatrix"
                      / "ins_datamatrix_vectors.json").read_text(encoding="utf-8"))
BY_ID = {v["id"]: v for v in VECTORS}


@pytest.mark.req("SGL.INS.53")
def test_ins_datamatrix_content_of_ans_test_patient_matches_kit_vector_SGL_INS_53() -> None:
    content = ins_datamatrix_content(ans_test_patient())
    assert content == PAT_TROIS_DATAMATRIX
    # The kit's computed vector puts a GS after the 20-character test OID, against its own rule
    # (GS only below the 20-character maximum, as in the Mediboard vector mediboard_create_fr).
    kit = BY_ID["pat_trois_dominique_computed"]["expected"]
    assert content == kit.replace("1.4.10\x1dS3", "1.4.10S3")
    assert parse_ins_datamatrix(content) == parse_ins_datamatrix(kit)


def test_production_oid_shorter_than_20_characters_is_closed_by_gs() -> None:
    patient = ans_test_patient()
    patient["identifier"][0] = ins_identifier_for("279035121518989", OID_INS_NIR)
    content = ins_datamatrix_content(patient)
    assert content is not None and "S21.2.250.1.213.1.4.8\x1dS3DOMINIQUE\x1d" in content


@pytest.mark.req("SGL.INS.53")
@pytest.mark.parametrize("module_px", [2, 4, 6])
def test_ins_datamatrix_png_decodes_back_to_the_same_content_SGL_INS_53(module_px: int) -> None:
    png = render_datamatrix_png(PAT_TROIS_DATAMATRIX, module_px=module_px)
    image = Image.open(io.BytesIO(png))
    assert image.mode == "1"  # no alpha channel: fit for PDF/A-1
    assert image.width == image.height and image.width % module_px == 0
    assert decode_datamatrix_png(png) == PAT_TROIS_DATAMATRIX


@pytest.mark.req("SGL.INS.37")
@pytest.mark.parametrize("status", ["PROV", "RECUP", "VALI"])
def test_no_datamatrix_for_a_non_qualified_identity_SGL_INS_37(status: str) -> None:
    assert ins_datamatrix_content(ans_test_patient(status)) is None


@pytest.mark.parametrize("vector_id", ["mediboard_create_fr", "mediboard_create_foreign",
                                       "pat_trois_dominique_computed"])
def test_parse_reads_back_every_field_of_the_built_vectors(vector_id: str) -> None:
    vector = BY_ID[vector_id]
    parsed = parse_ins_datamatrix(vector["expected"])
    given = vector["input"]
    assert parsed == {"matricule": given["matricule"], "oid": given["oid"], "prenoms": given["prenoms"],
                      "nom": given["nom_naissance"], "sexe": given["sexe"],
                      "date_naissance": given["date_naissance"], "lieu_naissance": given["lieu_naissance"]}


@pytest.mark.parametrize("vector_id", ["mediboard_read_without_S7", "mediboard_read_reordered"])
def test_parse_accepts_fields_in_any_order_and_without_s7(vector_id: str) -> None:
    vector = BY_ID[vector_id]
    assert parse_ins_datamatrix(vector["input_string"]) == vector["expected_parse"]


def test_content_is_upper_case_ascii_without_diacritics() -> None:
    patient = ans_test_patient()
    patient["name"][0] = {"use": "official", "family": "Pat-Trois d'Éon", "given": ["Dominique"]}
    patient["extension"] = [e for e in patient["extension"] if "given-name" not in e["url"]]
    patient["name"][0]["given"] = ["Dominique", "Héloïse"]
    content = ins_datamatrix_content(patient)
    assert content is not None
    assert "S3DOMINIQUE HELOISE\x1dS4PAT-TROIS D'EON\x1d" in content


def test_unknown_birth_day_is_written_00_and_s7_is_left_out_without_birthplace() -> None:
    patient = ans_test_patient()
    patient["birthDate"] = "1979-03"
    patient["extension"] = [e for e in patient["extension"] if "birthPlace" not in e["url"]]
    content = ins_datamatrix_content(patient)
    assert content is not None
    assert content.endswith("S5FS600-03-1979")
    assert parse_ins_datamatrix(content)["date_naissance"] == "1979-03-00"


def test_qualified_identity_without_birth_date_is_refused_with_its_location() -> None:
    patient = ans_test_patient()
    del patient["birthDate"]
    with pytest.raises(DatamatrixError) as err:
        ins_datamatrix_content(patient)
    assert err.value.expression == ["Patient.birthDate"]


def test_birth_name_over_100_characters_is_refused() -> None:
    patient = ans_test_patient()
    patient["name"][0]["family"] = "A" * 101
    with pytest.raises(DatamatrixError) as err:
        ins_datamatrix_content(patient)
    assert err.value.expression == ["Datamatrix.S4"]


@pytest.mark.parametrize(("content", "where"), [
    ("XX" + PAT_TROIS_DATAMATRIX[2:], "Datamatrix.header"),
    (HEADER + "S9ABC", f"Datamatrix[{len(HEADER)}]"),
    (PAT_TROIS_DATAMATRIX + "S5M", "Datamatrix.S5"),
    (PAT_TROIS_DATAMATRIX.replace("S628-03-1979", "S61979-03-28"), "Datamatrix.S6"),
    (PAT_TROIS_DATAMATRIX.replace("S5F", "S5X"), "Datamatrix.S5"),
    (PAT_TROIS_DATAMATRIX.replace("S4PAT-TROIS\x1d", ""), "Datamatrix.S4"),
    (PAT_TROIS_DATAMATRIX[:-3], "Datamatrix.S7"),
])
def test_parse_rejects_malformed_content_naming_the_field(content: str, where: str) -> None:
    with pytest.raises(DatamatrixError) as err:
        parse_ins_datamatrix(content)
    assert where in err.value.expression


def test_decode_refuses_an_image_without_a_symbol() -> None:
    blank = io.BytesIO()
    Image.new("L", (120, 120), 255).save(blank, format="PNG")
    with pytest.raises(DatamatrixError, match="no Datamatrix"):
        decode_datamatrix_png(blank.getvalue())
    with pytest.raises(DatamatrixError, match="not a readable image"):
        decode_datamatrix_png(b"not a png")


@pytest.mark.parametrize("cog", ["2A020", "2B033", "99134", "63220"])
def test_birthplace_of_corsica_or_abroad_reads_back(cog: str) -> None:
    """S7 is a COG: Corsican communes start 2A/2B, a birth abroad is 99 and the country code."""
    content = PAT_TROIS_DATAMATRIX[:-5] + cog
    assert parse_ins_datamatrix(content)["lieu_naissance"] == cog
