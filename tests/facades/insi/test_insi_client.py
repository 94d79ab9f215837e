"""The INSi client against the simulator, over real HTTPS with mutual TLS on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from facades.insi import (
    CarteVitaleQuery,
    Exchange,
    InsiAnswerUnreadable,
    InsiClient,
    InsiFault,
    InsiRequestInvalid,
    InsiUnreachable,
    Matricule,
    Operation,
    TraitsQuery,
    check_importable,
    client_ssl_context,
    start_insi_simulator,
)
from facades.insi.directory import KIT_DIR
from facades.insi.model import Identity, Ins, Traits
from facades.insi.simulator import SimulatorHandle
from resources.errors import RuleViolation
from tests.support.insi_kit import CALLER, KIT, SOFTWARE
from tests.support.pki import TestPki, create_test_pki, issue_client_certificate


def _kit_rows() -> list[dict[str, object]]:
    """The kit CSV read independently: its ``inshisto`` items are split by the CSV's own ``;``."""
    lines = (KIT / "test-identities/test_identities.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    at = header.index("inshisto")
    rows: list[dict[str, object]] = []
    for line in lines[1:]:
        fields = line.split(";")
        row: dict[str, object] = dict(zip(header[:at], fields[:at], strict=True))
        row["inshisto"] = list(itertools.takewhile(lambda f: "/" in f, (f.strip() for f in fields[at:])))
        rows.append(row)
    return rows


ROWS = _kit_rows()
ADRTROIS_DOMINIQUE = TraitsQuery("ADRTROIS", ("DOMINIQUE",), "F", "1997-02-26")


def _kit_tiq(name: str) -> dict[str, str]:
    """The TIQ traits of a kit answer file, read independently of the client's parser."""
    tree = etree.parse(str(KIT / "test-identities" / name))
    ns = {"r": "http://www.cnamts.fr/INSiResultat"}
    tiq = tree.find(".//r:TIQ", ns)
    assert tiq is not None
    return {etree.QName(el).localname: el.text or "" for el in tiq}


async def test_search_adrtrois_dominique_returns_exactly_the_kit_answer(client: InsiClient) -> None:
    result = await client.search_by_traits(ADRTROIS_DOMINIQUE, CALLER)
    assert (result.code, result.label) == ("00", "OK")
    assert result.identity is not None
    assert result.identity.active == Ins("297022A020778", "78", "1.2.250.1.213.1.4.8")
    assert result.identity.active.matricule == "297022A02077878"
    assert result.identity.history == ()
    tiq = _kit_tiq("REP_CR00_ADRTROIS_DOMINIQUE.xml")
    t = result.identity.traits
    assert (t.birth_name, t.first_names, t.sex, t.birth_date, t.birthplace) == (
        tiq["NomNaissance"],
        tiq["ListePrenom"],
        tiq["Sexe"],
        tiq["DateNaissance"],
        tiq["LieuNaissance"],
    )
    assert t.birthplace == "2A020"


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['nom_naissance']}_{r['prenom_requete']}" for r in ROWS])
async def test_every_kit_identity_gets_its_expected_code_and_ins(client: InsiClient, row: dict[str, Any]) -> None:
    query = TraitsQuery(row["nom_naissance"], (row["prenom_requete"],), row["sexe"], row["date_naissance"])
    result = await client.search_by_traits(query, CALLER)
    assert result.code == row["code_cr_attendu"]
    if row["code_cr_attendu"] != "00":
        assert result.identity is None
        return
    assert result.identity is not None
    active = result.identity.active
    assert (active.number, active.key, active.oid) == (row["matricule_nir_13"], row["cle"], row["oid"])
    assert result.identity.traits.first_names == row["liste_prenoms"]
    assert [f"{h.number}/{h.key}" for h in result.identity.history] == row["inshisto"]


async def test_ecetinsi_history_keeps_dates_and_order(client: InsiClient) -> None:
    query = TraitsQuery("ECETINSI", ("PIERRE-ALAIN",), "M", "2009-07-14")
    result = await client.search_by_traits(query, CALLER)
    assert result.identity is not None
    first, second = result.identity.history
    assert (first.matricule, first.start, first.end) == ("209076322083439", "2019-03-01", "2019-02-28")
    assert (second.matricule, second.start, second.end) == ("209066322012355", None, None)


async def test_nia_identity_comes_with_the_nia_oid(client: InsiClient) -> None:
    result = await client.search_by_traits(TraitsQuery("PROVISOIRE", ("MATRICULE",), "M", "2009-07-01"), CALLER)
    assert result.identity is not None
    assert result.identity.active.oid == "1.2.250.1.213.1.4.9"
    assert result.identity.active.kind == "INS-NIA"
    assert result.identity.active.key_is_consistent


@pytest.mark.parametrize(
    ("query", "matricule", "birthplace"),
    [
        (ADRTROIS_DOMINIQUE, "297022A02077878", "2A020"),
        (TraitsQuery("ADRTROIS", ("TOUSSAINT",), "M", "1960-01-01"), "160012B02077713", "2B020"),
        (TraitsQuery("CORSE", ("ANTHONY",), "M", "1980-03-02"), "180032B02040123", "2B020"),
    ],
    ids=["2A", "2B", "CNDA-2.08-cas1"],
)
async def test_corsica_matricules_keep_their_letter_and_valid_key(
    client: InsiClient, query: TraitsQuery, matricule: str, birthplace: str
) -> None:
    result = await client.search_by_traits(query, CALLER)
    assert result.identity is not None
    assert result.identity.active.matricule == matricule
    assert result.identity.active.key_is_consistent
    assert result.identity.traits.birthplace == birthplace


async def test_unknown_person_is_not_found_01(client: InsiClient) -> None:
    result = await client.search_by_traits(TraitsQuery("INCONNU", ("PERSONNE",), "F", "2000-01-01"), CALLER)
    assert (result.code, result.label, result.identity) == ("01", "Aucune identite trouvee", None)
    assert not result.found


async def test_tchitchi_ola_is_01_and_catarina_is_00(client: InsiClient) -> None:
    ola = await client.search_by_traits(TraitsQuery("TCHITCHI", ("OLA",), "F", "1936-06-21"), CALLER)
    catarina = await client.search_by_traits(TraitsQuery("TCHITCHI", ("CATARINA",), "F", "1936-06-21"), CALLER)
    assert ola.code == "01"
    assert catarina.code == "00" and catarina.identity is not None
    assert catarina.identity.traits.first_names == "CATARINA BELLA"


@pytest.mark.parametrize("first_names", [("PIERRE",), ("PAUL",), ("PIERRE PAUL JACQUES",)])
async def test_houilles_is_always_01(client: InsiClient, first_names: tuple[str, ...]) -> None:
    result = await client.search_by_traits(TraitsQuery("HOUILLES", first_names, "M", "1993-01-27"), CALLER)
    assert result.code == "01"


async def test_de_vinci_gives_several_identities_02(client: InsiClient) -> None:
    result = await client.search_by_traits(TraitsQuery("DE VINCI", ("LEONARDO",), "M", "2014-02-01"), CALLER)
    assert (result.code, result.label, result.identity) == ("02", "Plusieurs identites trouvees", None)


async def test_accented_lower_case_input_is_sent_as_insi_expects(
    client: InsiClient, simulator: SimulatorHandle
) -> None:
    result = await client.search_by_traits(TraitsQuery("Adrtrois", ("Dominiqué",), "F", "1997-02-26"), CALLER)
    assert result.code == "00"
    assert b">DOMINIQUE</" in simulator.received[-1]


async def test_wrong_birthplace_is_not_found(client: InsiClient) -> None:
    query = TraitsQuery("ADRTROIS", ("DOMINIQUE",), "F", "1997-02-26", birthplace="63220")
    assert (await client.search_by_traits(query, CALLER)).code == "01"


async def test_carte_vitale_search_finds_the_beneficiary(client: InsiClient) -> None:
    query = CarteVitaleQuery("ADRUN", "1975-12-31", "1", individual=Matricule("2751263220749", "74"))
    result = await client.search_by_carte_vitale(query, CALLER)
    assert result.identity is not None
    assert result.identity.active.matricule == "275126322074974"


async def test_carte_vitale_with_another_nir_is_not_found(client: InsiClient) -> None:
    query = CarteVitaleQuery("ADRUN", "1975-12-31", "1", individual=Matricule("1751263220749", "11"))
    assert (await client.search_by_carte_vitale(query, CALLER)).code == "01"


def _stored(matricule: str = "297022A02077878", birth_name: str = "ADRTROIS") -> Identity:
    traits = Traits(birth_name, "DOMINIQUE", "DOMINIQUE", "F", "1997-02-26", "2A020")
    return Identity(active=Ins(matricule[:13], matricule[13:], "1.2.250.1.213.1.4.8"), traits=traits)


@pytest.mark.req("SGL.INS.42")
async def test_verification_ok_is_traced_SGL_INS_42(client: InsiClient, traces: list[Exchange]) -> None:
    verification = await client.verify(_stored(), CALLER)
    assert verification.ok and verification.status == "OK"
    assert traces[-1].operation is Operation.VERIFY
    assert traces[-1].outcome == "OK"
    assert b"rechercherInsAvecTraitsIdentite" in traces[-1].request


@pytest.mark.req("SGL.INS.42")
async def test_verification_ko_gives_the_reason_and_is_traced_SGL_INS_42(
    client: InsiClient, traces: list[Exchange]
) -> None:
    verification = await client.verify(_stored(matricule="297022A02077977"), CALLER)
    assert not verification.ok
    assert any("297022A02077977" in r for r in verification.reasons)
    assert traces[-1].outcome.startswith("KO: matricule INS 297022A02077977")
    unknown = await client.verify(_stored(birth_name="ADRQUATRE"), CALLER)
    assert not unknown.ok and unknown.reasons == ("INSi answered 01 (Aucune identite trouvee)",)


@pytest.mark.req("SGL.INS.04")
@pytest.mark.req("SGL.INS.40")
@pytest.mark.req("SGL.INS.41")
async def test_each_call_is_traced_with_request_answer_user_and_duration_SGL_INS_04_40_41(
    client: InsiClient, traces: list[Exchange], simulator: SimulatorHandle
) -> None:
    await client.search_by_traits(ADRTROIS_DOMINIQUE, CALLER)
    await client.search_by_carte_vitale(CarteVitaleQuery("ADRUN", "1975-12-31", "1"), CALLER)
    await client.search_by_traits(TraitsQuery("DE VINCI", ("LEONARDO",), "M", "2014-02-01"), CALLER)
    other = dataclasses.replace(CALLER, user="tech.durand")
    await client.search_by_carte_vitale(CarteVitaleQuery("HOUILLES", "1993-01-27", "1"), other)
    assert [t.operation for t in traces] == [
        Operation.SEARCH_TRAITS,
        Operation.SEARCH_CARTE_VITALE,
        Operation.SEARCH_TRAITS,
        Operation.SEARCH_CARTE_VITALE,
    ]
    assert [t.outcome[:2] for t in traces] == ["00", "00", "02", "01"]
    assert [t.caller.user for t in traces] == ["bio.martin"] * 3 + ["tech.durand"]
    assert traces[1].response is not None and b"2751263220749" in traces[1].response
    first = traces[0]
    assert first.caller == CALLER and first.error is None
    assert first.request == simulator.received[0]
    assert first.message_id.encode() in first.request
    assert first.response is not None and b"297022A020778" in first.response
    assert first.outcome == "00 OK INS 297022A02077878 (1.2.250.1.213.1.4.8)"
    assert 0 < first.duration < 5
    assert traces[2].outcome == "02 Plusieurs identites trouvees"


@pytest.mark.req("SGL.INS.41")
async def test_trace_carries_everything_the_insi_returned_SGL_INS_41(
    client: InsiClient, traces: list[Exchange]
) -> None:
    returned = await client.search_by_traits(TraitsQuery("ECETINSI", ("PIERRE-ALAIN",), "M", "2009-07-14"), CALLER)
    traced = traces[-1].result
    assert traced == returned
    assert traced is not None and traced.identity is not None
    assert traced.identity.active.matricule == "109076322083489"
    assert [h.matricule for h in traced.identity.history] == ["209076322083439", "209066322012355"]
    assert traced.identity.traits.first_names == "PIERRE-ALAIN MURIEL FLORIANT"
    assert traces[-1].response is not None and b"<DateDeb>2019-03-01</DateDeb>" in traces[-1].response


@pytest.mark.req("SGL.INS.04")
async def test_refused_call_is_traced_with_its_error_SGL_INS_04(
    pki: TestPki, simulator: SimulatorHandle, tmp_path: Path
) -> None:
    traces: list[Exchange] = []

    async def trace(exchange: Exchange) -> None:
        traces.append(exchange)

    manu = issue_client_certificate(pki.ca, tmp_path, stem="other", common_name="LABO-APP")
    context = client_ssl_context(manu.cert, manu.key, pki.ca.cert)
    async with InsiClient(simulator.url, context, SOFTWARE, trace=trace) as insi:
        with pytest.raises(InsiFault) as caught:
            await insi.search_by_traits(ADRTROIS_DOMINIQUE, CALLER)
    assert caught.value.error_code == "DESIR_560"
    assert caught.value.subcode == "siram_100"
    assert "Niveau d'accès insuffisant" in caught.value.diagnostics
    assert traces[0].error is caught.value
    assert traces[0].response is not None and b"DESIR_560" in traces[0].response


async def test_client_without_certificate_is_refused_with_a_clear_error(
    pki: TestPki, simulator: SimulatorHandle
) -> None:
    traces: list[Exchange] = []

    async def trace(exchange: Exchange) -> None:
        traces.append(exchange)

    bare = ssl.create_default_context(cafile=str(pki.ca.cert))
    async with InsiClient(simulator.url, bare, SOFTWARE, trace=trace) as insi:
        with pytest.raises(InsiUnreachable) as caught:
            await insi.search_by_traits(ADRTROIS_DOMINIQUE, CALLER)
    assert "unreachable" in caught.value.diagnostics
    assert "certificate" in caught.value.diagnostics or "TLS" in caught.value.diagnostics
    assert caught.value.status == 503
    assert simulator.received == []
    assert traces[0].error is caught.value and traces[0].response is None


async def test_client_certificate_from_another_ca_is_refused(
    pki: TestPki, simulator: SimulatorHandle, tmp_path: Path
) -> None:
    stranger = create_test_pki(tmp_path / "stranger")
    context = client_ssl_context(stranger.client.cert, stranger.client.key, pki.ca.cert)

    async def trace(exchange: Exchange) -> None:
        return None

    async with InsiClient(simulator.url, context, SOFTWARE, trace=trace) as insi:
        with pytest.raises(InsiUnreachable):
            await insi.search_by_traits(ADRTROIS_DOMINIQUE, CALLER)
    assert simulator.received == []


async def test_server_not_trusted_by_the_client_is_a_tls_error(
    pki: TestPki, simulator: SimulatorHandle, tmp_path: Path
) -> None:
    stranger = create_test_pki(tmp_path / "stranger")
    context = client_ssl_context(pki.client.cert, pki.client.key, stranger.ca.cert)

    async def trace(exchange: Exchange) -> None:
        return None

    async with InsiClient(simulator.url, context, SOFTWARE, trace=trace) as insi:
        with pytest.raises(InsiUnreachable, match="TLS handshake failed"):
            await insi.search_by_traits(ADRTROIS_DOMINIQUE, CALLER)


@pytest.mark.req("SGL.INS.04")
async def test_unknown_software_idam_is_a_soap_fault_SGL_INS_04(pki: TestPki, traces: list[Exchange]) -> None:
    handle = await start_insi_simulator(
        "127.0.0.1", 0, pki.server.cert, pki.server.key, pki.ca.cert, accepted_idams={"OTHER-IDAM"}
    )

    async def trace(exchange: Exchange) -> None:
        traces.append(exchange)

    try:
        context = client_ssl_context(pki.client.cert, pki.client.key, pki.ca.cert)
        async with InsiClient(handle.url, context, SOFTWARE, trace=trace) as insi:
            with pytest.raises(InsiFault) as caught:
                await insi.search_by_traits(ADRTROIS_DOMINIQUE, CALLER)
    finally:
        await handle.stop()
    fault = caught.value
    assert (fault.soap_code, fault.subcode, fault.error_code, fault.severity) == (
        "Sender",
        "siram_100",
        "desir_550",
        "erreur",
    )
    assert "Numéro d'autorisation du logiciel inconnu" in fault.diagnostics
    assert fault.expression == ["Envelope/Body/Fault"]
    assert traces[-1].outcome.startswith("error: INSi fault siram_100/desir_550")


async def test_unreachable_port_is_unavailable(pki: TestPki) -> None:
    handle = await start_insi_simulator("127.0.0.1", 0, pki.server.cert, pki.server.key, pki.ca.cert)
    url = handle.url
    await handle.stop()

    async def trace(exchange: Exchange) -> None:
        return None

    context = client_ssl_context(pki.client.cert, pki.client.key, pki.ca.cert)
    async with InsiClient(url, context, SOFTWARE, trace=trace) as insi:
        with pytest.raises(InsiUnreachable, match="connection failed"):
            await insi.search_by_traits(ADRTROIS_DOMINIQUE, CALLER)


async def _with_transport(handler: httpx.MockTransport, traces: list[Exchange], pki: TestPki) -> InsiClient:
    async def trace(exchange: Exchange) -> None:
        traces.append(exchange)

    context = client_ssl_context(pki.client.cert, pki.client.key, pki.ca.cert)
    return InsiClient("https://insi.test/lps", context, SOFTWARE, trace=trace, transport=handler)


async def test_http_error_without_soap_body_is_unavailable(pki: TestPki, traces: list[Exchange]) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503, text="maintenance"))
    async with await _with_transport(transport, traces, pki) as insi:
        with pytest.raises(InsiUnreachable, match="HTTP 503"):
            await insi.search_by_traits(ADRTROIS_DOMINIQUE, CALLER)
    assert traces[0].response is None and isinstance(traces[0].error, InsiUnreachable)


async def test_answer_that_is_not_soap_is_unreadable(pki: TestPki, traces: list[Exchange]) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"].startswith("application/soap+xml; charset=utf-8; action=")
        return httpx.Response(200, content=b"<html>proxy login</html>", headers={"content-type": "text/html"})

    async with await _with_transport(httpx.MockTransport(reply), traces, pki) as insi:
        with pytest.raises(InsiAnswerUnreadable) as caught:
            await insi.search_by_traits(ADRTROIS_DOMINIQUE, CALLER)
    assert caught.value.expression == ["Envelope"]
    assert traces[0].response == b"<html>proxy login</html>"


async def test_failing_trace_makes_the_call_fail(pki: TestPki, simulator: SimulatorHandle) -> None:
    async def trace(exchange: Exchange) -> None:
        raise RuntimeError("audit store down")

    context = client_ssl_context(pki.client.cert, pki.client.key, pki.ca.cert)
    async with InsiClient(simulator.url, context, SOFTWARE, trace=trace) as insi:
        with pytest.raises(RuntimeError, match="audit store down"):
            await insi.search_by_traits(ADRTROIS_DOMINIQUE, CALLER)


async def test_invalid_query_is_refused_before_anything_is_sent(
    client: InsiClient, simulator: SimulatorHandle, traces: list[Exchange]
) -> None:
    with pytest.raises(InsiRequestInvalid) as caught:
        await client.search_by_traits(TraitsQuery("ADR3", ("DOMINIQUE",), "F", "1997-02-26"), CALLER)
    assert caught.value.expression == ["RECSANSVITALE/NomNaissance"]
    assert simulator.received == [] and traces == []


@pytest.mark.req("SGL.INS.15")
async def test_answer_00_with_unknown_birth_day_is_not_imported_end_to_end_SGL_INS_15(
    pki: TestPki, tmp_path: Path
) -> None:
    kit = tmp_path / "kit"
    shutil.copytree(KIT_DIR, kit)
    with (kit / "test_identities.csv").open("a", encoding="utf-8") as csv_file:
        csv_file.write(
            "LUNAIRE;JEANNE;JEANNE;F;1950-03-00;63220;2500363220111;47;1.2.250.1.213.1.4.8;00;;jour inconnu\n"
        )
    handle = await start_insi_simulator("127.0.0.1", 0, pki.server.cert, pki.server.key, pki.ca.cert, kit_dir=kit)
    traces: list[Exchange] = []

    async def trace(exchange: Exchange) -> None:
        traces.append(exchange)

    try:
        context = client_ssl_context(pki.client.cert, pki.client.key, pki.ca.cert)
        async with InsiClient(handle.url, context, SOFTWARE, trace=trace) as insi:
            result = await insi.search_by_traits(TraitsQuery("LUNAIRE", ("JEANNE",), "F", "1950-03-00"), CALLER)
    finally:
        await handle.stop()
    assert result.code == "00" and result.identity is not None
    assert result.identity.traits.birth_date == "1950-03-00"
    with pytest.raises(RuleViolation) as caught:
        check_importable(result)
    assert caught.value.rule == "SGL.INS.15"
    assert traces[0].result == result
