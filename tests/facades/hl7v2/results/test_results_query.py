"""QBP^Q11 read and RSP^K11 built (IHE LAW work order step)."""

from __future__ import annotations

import pytest

from facades.hl7v2 import Hl7ParseError, parse
from facades.hl7v2.results import OrderedTest, SpecimenOrder, build_order_response, parse_order_query

QBP = ("MSH|^~\\&|BIO1|LABO|SGL|LABO|20261126101500||QBP^Q11^QBP_Q11|Q1|P|2.5.1\r"
       "QPD|WOS^Work Order Step^IHE_LABTF|TAG-1|ACC-001\r"
       "RCP|I||R\r")


def test_query_names_the_specimen_and_the_tag() -> None:
    query = parse_order_query(parse(QBP))
    assert (query.specimen_id, query.query_tag, query.analyzer, query.control_id) == ("ACC-001", "TAG-1", "BIO1", "Q1")


def test_query_without_specimen_id_points_at_qpd_3() -> None:
    with pytest.raises(Hl7ParseError) as err:
        parse_order_query(parse(QBP.replace("|ACC-001", "|")))
    assert err.value.location.expression() == "QPD[1]-3"


def test_response_lists_one_obr_per_test_and_echoes_the_query() -> None:
    order = SpecimenOrder("ACC-001", (OrderedTest("GLU", "Glucose"), OrderedTest("UREA")), order_number="SR-1",
                          patient_id="P1", family="DUPONT", given="Jean", birth_date="19790312", sex="M")
    rsp = parse(build_order_response(parse(QBP), order, control_id="R1").to_er7())
    assert rsp.message_type == "RSP" and rsp.trigger_event == "K11" and rsp.control_id == "R1"
    assert rsp.msh.get("5") == "BIO1" and rsp.segment("MSA").get(2) == "Q1"
    assert rsp.segment("QAK").get(1) == "TAG-1" and rsp.segment("QAK").get(2) == "OK"
    assert rsp.segment("QPD").get(3) == "ACC-001" and rsp.segment("SPM").get("2.1.1") == "ACC-001"
    assert [o.get("4.1") for o in rsp.segments("OBR")] == ["GLU", "UREA"]
    assert rsp.segment("PID").get("5.1") == "DUPONT"


def test_unknown_specimen_gets_no_data_found() -> None:
    rsp = build_order_response(parse(QBP), None)
    assert rsp.segment("QAK").get(2) == "NF" and rsp.segment("OBR") is None
