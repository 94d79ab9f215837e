"""Building the Observation and Task of a received result (pure, no store)."""

from __future__ import annotations

from server.analyzers.catalog_view import AnalysisEntry
from server.analyzers.incoming import IncomingResult, split_comparator
from server.analyzers.observation import Match, build_observation, build_task, unit_problem, value_problem

GLU = AnalysisEntry("GLU", "Glucose", ({"system": "local", "code": "GLU"},), numeric=True, unit_code="g/L",
                    unit_label="g/L", units=frozenset({"g/L", "mg/dL"}))


def result(**changes: str) -> IncomingResult:
    base = {"analyzer": "BIO1", "specimen_id": "T1", "test_code": "GLU", "value": "1.2",
            "run_at": "2026-11-26T10:12:00+01:00", "source": "test", "units": "g/L"}
    return IncomingResult(**{**base, **changes})  # type: ignore[arg-type]


def test_same_run_gives_the_same_key_and_a_rerun_another() -> None:
    assert result().key == result(value="9").key == "BIO1/T1/GLU/202611261012000100"
    assert result(run_at="2026-11-26T10:30:00+01:00").key != result().key


def test_key_parts_are_encoded_so_separators_in_ids_cannot_collide() -> None:
    assert result(specimen_id="A/B").key != result(specimen_id="A", test_code="B/GLU").key
    assert "," not in result(specimen_id="A,B").key and "|" not in result(specimen_id="A|B").key


def test_comparator_is_split_from_the_value() -> None:
    assert split_comparator("<0.05") == ("<", "0.05") and split_comparator(">= 500") == (">=", "500")
    assert split_comparator("12") == ("", "12")


def test_units_and_values_are_checked_against_the_analysis() -> None:
    assert unit_problem(result(units="mg/dL"), GLU) == "" and unit_problem(result(units=""), GLU) == ""
    assert "mmol/L" in unit_problem(result(units="mmol/L"), GLU)
    assert "not a number" in value_problem(result(value="****"), GLU)


def test_unmatched_result_keeps_what_was_received_and_its_task_says_why() -> None:
    match = Match(problem="unknown-accession", detail="no specimen with accession number 'T1'")
    obs = build_observation(result(units="mmol/L"), match, issued="2026-11-26T09:00:00Z")
    assert obs["status"] == "preliminary" and obs["valueQuantity"] == {"value": 1.2, "unit": "mmol/L"}
    assert "specimen" not in obs and "basedOn" not in obs and "subject" not in obs
    assert obs["code"]["coding"] == [{"system": "https://opensgl.org/fhir/CodeSystem/automate/BIO1", "code": "GLU"}]
    task = build_task(result(), match, "obs-1", authored="2026-11-26T09:00:00Z")
    assert task["focus"] == {"reference": "Observation/obs-1"} and task["status"] == "requested"
    assert task["statusReason"]["coding"][0]["code"] == "unknown-accession"


def test_text_value_of_a_numeric_analysis_is_kept_as_text() -> None:
    obs = build_observation(result(value="ERR"), Match(GLU, problem="not-numeric"), issued="2026-11-26T09:00:00Z")
    assert obs["valueString"] == "ERR" and "valueQuantity" not in obs


def test_result_without_test_code_or_analyzer_name_still_builds_a_valid_observation() -> None:
    from resources.conformance import validate_resource

    match = Match(problem="unknown-analyzer", detail="analyzer '' is not in the catalogue")
    obs = build_observation(result(analyzer="", test_code=""), match, issued="2026-11-26T09:00:00Z")
    assert validate_resource(obs)["code"] == {"text": "test non identifié"}
    named = build_observation(result(analyzer="BIO 1"), match, issued="2026-11-26T09:00:00Z")
    assert validate_resource(named)["code"]["coding"][0]["system"].endswith("/automate/BIO%201")


def test_the_instrument_s_comments_become_notes_kept_beside_a_rerun_s_reason() -> None:
    from resources.conformance import validate_resource
    from server.analyzers.observation import filled

    commented = IncomingResult(analyzer="BIO1", specimen_id="T1", test_code="GLU", value="1.2", source="test",
                               run_at="2026-11-26T10:12:00+01:00", comments=("Hémolyse modérée", "Dilution 1/2"))
    obs = build_observation(commented, Match(GLU), issued="2026-11-26T09:00:00Z")
    assert obs["note"] == [{"authorString": "BIO1", "text": "Hémolyse modérée"},
                           {"authorString": "BIO1", "text": "Dilution 1/2"}]
    validate_resource(obs)
    assert "note" not in build_observation(result(), Match(GLU), issued="2026-11-26T09:00:00Z")
    awaiting = {"resourceType": "Observation", "id": "o1", "note": [{"text": "rerun: delta check"}]}
    assert filled(awaiting, obs)["note"] == [{"text": "rerun: delta check"}, *obs["note"]]
    assert filled(awaiting, build_observation(result(), Match(GLU), issued="x"))["note"] == awaiting["note"]


def test_a_result_the_analyzer_could_not_obtain_says_why_it_has_no_value() -> None:
    from resources.conformance import validate_resource

    impossible = IncomingResult(analyzer="BIO1", specimen_id="T1", test_code="GLU", value="", source="test",
                                run_at="2026-11-26T10:12:00+01:00", instrument_status="X")
    obs = build_observation(impossible, Match(GLU), issued="2026-11-26T09:00:00Z")
    assert obs["dataAbsentReason"]["coding"][0]["code"] == "error" and "status X" in obs["dataAbsentReason"]["text"]
    assert not [k for k in obs if k.startswith("value")]
    validate_resource(obs)
    # no status and no value: the value may come in a later message
    awaited = build_observation(result(value=""), Match(GLU), issued="2026-11-26T09:00:00Z")
    assert awaited["dataAbsentReason"]["coding"][0]["code"] == "temp-unknown"
    validate_resource(awaited)
    assert "dataAbsentReason" not in build_observation(result(value="1.02"), Match(GLU), issued="x")
