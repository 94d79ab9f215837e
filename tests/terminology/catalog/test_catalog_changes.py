"""LOINC changes and their dates (terminology/catalog/changes.py): SGL.LOI.08 and SGL.LOI.09."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from resources.errors import InvalidInput
from terminology.catalog.changes import LoincChange, apply_changes, manual_change
from terminology.catalog.model import Catalog, Target
from terminology.errors import InvalidCode, StaleLoincChange, UnknownCatalogCode

T1 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
T2 = T1 + timedelta(days=10)


@pytest.mark.req("SGL.LOI.08")
def test_manual_edit_of_chapter_subchapter_exam_and_analysis_SGL_LOI_08(catalog: Catalog) -> None:
    edits = [(Target.CHAPTER, "IMMUN", "18724-5"), (Target.SUBCHAPTER, "HEMAT-NFS", "58410-2"),
             (Target.EXAM, "IONO", "24326-1"), (Target.ANALYSIS, "GLU", "14749-6")]
    changes = [manual_change(catalog, target, code, loinc, f"libellé {loinc}", "biologiste.dupont")
               for target, code, loinc in edits]
    edited = apply_changes(catalog, changes, T1)
    for target, code, loinc in edits:
        assignment = edited.get(target, code).loinc  # type: ignore[attr-defined]
        assert assignment.code == loinc and assignment.source == "manual:biologiste.dupont"
    assert catalog.analysis("GLU").loinc.code == "2345-7"  # the original catalogue is untouched


@pytest.mark.req("SGL.LOI.08")
def test_manual_edit_refuses_a_bad_check_digit_or_unknown_element_SGL_LOI_08(catalog: Catalog) -> None:
    with pytest.raises(InvalidCode) as err:
        manual_change(catalog, Target.ANALYSIS, "GLU", "2345-8", "x", "bio")
    assert err.value.expression == ["analysis:GLU.loinc"]
    with pytest.raises(UnknownCatalogCode):
        manual_change(catalog, Target.EXAM, "NOPE", "2345-7", "x", "bio")


@pytest.mark.req("SGL.LOI.09")
def test_first_code_stamps_creation_then_a_new_code_keeps_it_and_moves_modification_SGL_LOI_09(
        catalog: Catalog) -> None:
    assert catalog.exam("IONO").loinc is None
    first = apply_changes(catalog, [manual_change(catalog, Target.EXAM, "IONO", "24326-1", "Ionogramme", "a")], T1)
    assert (first.exam("IONO").loinc.created, first.exam("IONO").loinc.modified) == (T1, T1)
    second = apply_changes(first, [manual_change(first, Target.EXAM, "IONO", "24323-8", "Autre", "b")], T2)
    assignment = second.exam("IONO").loinc
    assert (assignment.code, assignment.created, assignment.modified) == ("24323-8", T1, T2)
    again = apply_changes(second, [manual_change(second, Target.EXAM, "IONO", "24323-8", "Autre", "c")],
                          T2 + timedelta(days=1))
    assert again.exam("IONO").loinc == assignment  # same code again: both dates kept


@pytest.mark.req("SGL.LOI.09")
def test_seed_dates_survive_an_unrelated_change_SGL_LOI_09(catalog: Catalog) -> None:
    before = catalog.analysis("NA").loinc
    after = apply_changes(catalog, [manual_change(catalog, Target.ANALYSIS, "K", "6298-4", "K sang", "a")], T1)
    assert after.analysis("NA").loinc == before
    assert after.analysis("K").loinc.created == catalog.analysis("K").loinc.created
    assert after.analysis("K").loinc.modified == T1


def test_a_stale_change_refuses_the_whole_batch(catalog: Catalog) -> None:
    fresh = manual_change(catalog, Target.ANALYSIS, "NA", "2947-0", "Na sang", "a")
    stale = LoincChange(Target.ANALYSIS, "K", "6298-4", "K sang", "import", previous=None)
    with pytest.raises(StaleLoincChange) as err:
        apply_changes(catalog, [fresh, stale], T1)
    assert err.value.status == 409 and err.value.expression == ["analysis:K.loinc"]


def test_change_time_must_be_aware(catalog: Catalog) -> None:
    change = manual_change(catalog, Target.ANALYSIS, "NA", "2947-0", "Na sang", "a")
    with pytest.raises(InvalidInput, match="UTC offset"):
        apply_changes(catalog, [change], datetime(2026, 1, 1))
