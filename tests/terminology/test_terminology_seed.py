"""The shipped demo catalogue (terminology/seed) and the circuit value set stand-in."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from terminology.catalog.model import Catalog, ResultType, Target
from terminology.loinc import LOINC_OID, is_valid_loinc
from terminology.seed import load_seed_catalog
from terminology.ucum import ucum_error
from terminology.valuesets import load_circuit_value_set

ANS_EXAMPLES = Path(__file__).resolve().parents[3] / "shared/kits/ans-cda-testkit/ExemplesCDA"
V3 = "{urn:hl7-org:v3}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_seed_catalog()


def test_seed_has_at_least_60_analyses_over_every_discipline(catalog: Catalog) -> None:
    assert len(catalog.analyses) >= 60
    per_chapter = Counter(a.chapter for a in catalog.analyses)
    assert set(per_chapter) == {"BIOCH", "HEMAT", "HEMOS", "IMMUN", "SERO", "URINE", "MICRO"}
    assert min(per_chapter.values()) >= 4
    assert sum(len(c.subchapters) + (not c.subchapters) for c in catalog.chapters) >= 10


def test_every_seed_loinc_code_passes_its_check_digit_and_is_used_once(catalog: Catalog) -> None:
    codes = [a.loinc.code for a in catalog.analyses if a.loinc]
    assert len(codes) == len(catalog.analyses)
    assert all(is_valid_loinc(c) for c in codes)
    assert [c for c, n in Counter(codes).items() if n > 1] == []


def test_every_unit_is_ucum_and_every_numeric_analysis_has_one(catalog: Catalog) -> None:
    for analysis in catalog.analyses:
        units = ([analysis.unit] if analysis.unit else []) + list(analysis.alt_units)
        assert all(ucum_error(u.code) is None for u in units), analysis.code
        if analysis.result_type is ResultType.NUMERIC:
            assert analysis.unit is not None and analysis.decimals is not None, analysis.code


@pytest.mark.parametrize(("loinc", "unit", "prop"), [
    ("2345-7", "g/L", "MCnc"), ("14749-6", "mmol/L", "SCnc"), ("2160-0", "mg/L", "MCnc"),
    ("14682-9", "umol/L", "SCnc"), ("2951-2", "mmol/L", "SCnc"), ("2823-3", "mmol/L", "SCnc"),
    ("718-7", "g/dL", "MCnc"), ("6690-2", "10*9/L", "NCnc"), ("777-3", "10*9/L", "NCnc"),
    ("789-8", "10*12/L", "NCnc"), ("5902-2", "s", "Time"), ("6301-6", "{INR}", "RelTime"),
    ("3016-3", "m[IU]/L", "ACnc"), ("1988-5", "mg/L", "MCnc"), ("2889-4", "g/(24.h)", "MRat"),
])
def test_known_loinc_unit_pairs(catalog: Catalog, loinc: str, unit: str, prop: str) -> None:
    analysis = next(a for a in catalog.analyses if a.loinc and a.loinc.code == loinc)
    assert analysis.unit is not None and analysis.unit.code == unit
    assert analysis.parts.property == prop


def test_seed_units_agree_with_the_ans_cr_bio_examples(catalog: Catalog) -> None:
    """Where a seed LOINC code appears in an official ANS example with a PQ value, its unit is ours."""
    if not ANS_EXAMPLES.is_dir():
        pytest.skip("ANS CDA test kit not present in ../shared")
    by_loinc = {a.loinc.code: a for a in catalog.analyses if a.loinc}
    checked = 0
    for path in ANS_EXAMPLES.glob("*.xml"):
        for obs in etree.parse(str(path)).iter(V3 + "observation"):
            code, value = obs.find(V3 + "code"), obs.find(V3 + "value")
            if code is None or value is None or code.get("codeSystem") != LOINC_OID:
                continue
            analysis = by_loinc.get(code.get("code", ""))
            if analysis and value.get(XSI_TYPE, "").endswith("PQ") and value.get("unit"):
                units = {u.code for u in (analysis.unit, *analysis.alt_units) if u}
                assert value.get("unit") in units, (path.name, code.get("code"), value.get("unit"))
                checked += 1
    assert checked >= 40


def test_exams_group_the_expected_analyses(catalog: Catalog) -> None:
    assert set(catalog.exam("IONO").analyses) == {"NA", "K", "CL", "CO2"}
    assert {"GB", "GR", "HB", "HT", "PLQ", "VGM"} <= set(catalog.exam("NFS").analyses)
    assert set(catalog.exam("EAL").analyses) == {"CHOL", "HDL", "LDL", "TG"}
    assert {"ASAT", "ALAT", "GGT", "PAL", "BILT"} <= set(catalog.exam("BHEP").analyses)
    assert "CULTU" in catalog.exam("ECBU").analyses
    assert catalog.exam("NFS").nabm == ("1104",)
    assert catalog.exam("NFS").loinc.code == "58410-2"


def test_two_demo_analyzers_carry_instrument_test_codes(catalog: Catalog) -> None:
    per_analyzer = Counter(i.analyzer for a in catalog.analyses for i in a.instrument_codes)
    assert set(per_analyzer) == {"BIO1", "HEM1"}
    assert per_analyzer["HEM1"] >= 20 and per_analyzer["BIO1"] >= 30
    assert catalog.analysis("HB").instrument_codes[0].code == "HGB"


def test_reference_intervals_by_sex_and_age(catalog: Catalog) -> None:
    creatinine = catalog.analysis("CREA")
    assert {str(i.sex) for i in creatinine.reference_intervals} == {"male", "female"}
    assert any(i.age_min is not None for i in catalog.analysis("VS").reference_intervals)
    assert catalog.analysis("K").critical_low is not None and catalog.analysis("K").critical_high is not None


def test_circuit_value_set_holds_every_catalogue_code(catalog: Catalog) -> None:
    circuit = load_circuit_value_set()
    for target in (Target.ANALYSIS, Target.EXAM):
        for element in (catalog.analyses if target is Target.ANALYSIS else catalog.exams):
            assert element.loinc is None or element.loinc.code in circuit
    assert all(is_valid_loinc(c) for c in circuit)
    assert "18719-5" in circuit and "40193-5" in circuit  # chapter and ANS example codes
