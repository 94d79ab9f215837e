"""Protocol-neutral results read from ASTM: test code (component 4, 5, or the universal id), sub-id,
and the result key / fingerprint that decide resend versus correction (pure, no server)."""

from __future__ import annotations

import pytest

from facades.astm import parse_message
from server.analyzers.astm_handler import incoming_from_astm
from server.analyzers.incoming import IncomingResult
from server.analyzers.options import DEFAULTS, PartnerOptions


def read(*tests: str, options: PartnerOptions = DEFAULTS) -> list[tuple[str, str]]:
    records = "".join(f"R|{n}|{t}|1.0|g/L||N||F||||20261126081200\r" for n, t in enumerate(tests, 1))
    message = parse_message("H|\\^&|||BIO1\rP|1\rO|1|TUBE-1\r" + records + "L|1|N\r")
    return [(r.test_code, r.sub_id) for r in incoming_from_astm(message, options)]


def test_code_from_component_4_else_5_else_the_universal_id_with_the_rest_as_sub_id() -> None:
    assert read("^^^GLU", "^^^^HBA1C", "^^^WBC^2", "^^^^PLT^1^D", "2345-7^Glucose^LN") == [
        ("GLU", ""), ("HBA1C", ""), ("WBC", "2"), ("PLT", "1^D"), ("2345-7", "")]


def test_unnumbered_repeats_of_a_code_on_a_tube_are_told_apart() -> None:
    assert read("^^^GLU", "^^^GLU", "^^^NA", "^^^GLU") == [("GLU", ""), ("GLU", "#2"), ("NA", ""), ("GLU", "#3")]


def test_a_partner_may_pin_the_fifth_component() -> None:
    assert read("^^^1^GLU", options=PartnerOptions(test_code="alternate")) == [("GLU", "")]


def test_the_whole_value_and_every_flag_are_kept_and_repeated_values_refused() -> None:
    """Found by probing the ASTM listener (HEM1): ``R|1|^^^HBS|Negative^0.52|S/CO`` was ACKed and stored as
    ``Negative`` (the index lost), flags ``H\\PANIC`` as ``H``, and ``5.5\\6.1`` as ``5.5``."""
    message = parse_message("H|\\^&|||HEM1\rP|1\rO|1|TUBE-1\r"
                            "R|1|^^^HBS|Negative^0.52|S/CO||N||F||||20261126081200\r"
                            "R|2|^^^K|7.1|mmol/L|3.5-5.0|H\\PANIC||F||||20261126081200\r"
                            "R|3|^^^GLU|5.5\\6.1|mmol/L||N||F||||20261126081200\rL|1|N\r")
    serology, potassium = incoming_from_astm(message)
    assert (serology.value, serology.units) == ("Negative^0.52", "S/CO")
    assert potassium.value == "7.1" and potassium.flags == ("H", "PANIC")
    [refused] = message.refused
    assert refused.line == 6 and "R.4" in refused.diagnostics and "2 repeats" in refused.diagnostics


def test_comment_records_after_an_r_record_are_its_comments() -> None:
    """Found by probing the ASTM listener: ``C|1|I|Sample slightly hemolysed|G`` after an R record was ACKed
    and kept nowhere but the raw journal."""
    message = parse_message("H|\\^&|||HEM1\rP|1\rO|1|TUBE-1\rC|1|I|order comment, not a result's|G\r"
                            "R|1|^^^WBC|7.5|10^3/uL||N||F||||20261126081200\r"
                            "C|1|I|Sample slightly hemolysed|G\rC|2|I|^Platelet clumps|I\r"
                            "R|2|^^^RBC|4.5|10^6/uL||N||F||||20261126081200\rL|1|N\r")
    wbc, rbc = incoming_from_astm(message)
    assert wbc.comments == ("Sample slightly hemolysed", "^Platelet clumps") and rbc.comments == ()


def result(value: str = "1.02", status: str = "F", sub_id: str = "", run: str = "2026-11-26T08:12:00+01:00",
           units: str = "g/L") -> IncomingResult:
    return IncomingResult(analyzer="BIO1", specimen_id="T/1", test_code="GLU", value=value, run_at=run,
                          source="test", instrument_status=status, sub_id=sub_id, units=units)


def test_the_key_names_the_measurement_and_the_fingerprint_its_value() -> None:
    assert result().key == result(value="2").key and result().fingerprint != result(value="2").fingerprint
    assert result().fingerprint == result(status="P").fingerprint  # not a correction: same value, a resend
    assert result().fingerprint != result(status="C").fingerprint  # a correction, even with the same value
    assert result().fingerprint != result(units="mmol/L").fingerprint
    assert result(sub_id="2").key == result().key + "/2"
    assert result(run="2026-11-26T08:30:00+01:00").key != result().key


def test_the_result_key_has_a_part_per_field_percent_encoded() -> None:
    assert result().key == "BIO1/T%2F1/GLU/202611260812000100"


def test_without_a_run_time_the_message_id_names_the_run() -> None:
    untimed = IncomingResult(analyzer="BIO1", specimen_id="T1", test_code="GLU", value="1",
                             run_at="2026-11-26T10:15:00", source="test", run_id="DI-1")
    assert untimed.key == "BIO1/T1/GLU/message-DI-1"


def test_a_frame_limit_below_the_standard_is_refused() -> None:
    with pytest.raises(ValueError, match="below the E1381"):
        PartnerOptions(max_frame=100)
