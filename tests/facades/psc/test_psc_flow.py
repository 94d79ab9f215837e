"""The relying party against a real ``sgl psc-simulator`` over HTTPS: authorization code + PKCE,
state, code replay and expiry, PKCE binding, userinfo, SSO and logout propagation (SGL.PSC.01)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from facades.psc import PendingLogin, PscClient, PscConfig, PscLoginRefused
from tests.support.psc import REDIRECT, PscSimulator, config_for, pick_user, start_psc_simulator

BIOLOGIST = "899700200001"
NURSE_ADELI = "0699700204"


def _browser(sim: PscSimulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=sim.tls(), follow_redirects=False, timeout=10)


async def _authorize(browser: httpx.AsyncClient, pending: PendingLogin, national_id: str | None) -> dict[str, str]:
    """Open the authorization URL, pick the user if the picker shows, and read the redirection's query."""
    page = await browser.get(pending.url)
    if page.status_code == 200:
        assert national_id is not None, "the picker was shown although an SSO session was expected"
        page = await pick_user(browser, page, national_id)
    assert page.status_code == 302, page.text
    location = page.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.mark.req("SGL.PSC.01")
async def test_login_reads_rpps_professions_and_modes_SGL_PSC_01(psc_sim: PscSimulator, psc_config: PscConfig) -> None:
    psc = PscClient(psc_config)
    try:
        pending = await psc.begin()
        query = parse_qs(urlsplit(pending.url).query)
        assert query["scope"] == ["openid scope_all"] and query["acr_values"] == ["eidas1"]
        assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
        assert query["state"] == [pending.state] and query["nonce"] == [pending.nonce]
        assert query["client_id"] == ["opensgl-dev"] and query["redirect_uri"] == [REDIRECT]
        assert pending.code_verifier not in pending.url
        async with _browser(psc_sim) as browser:
            params = await _authorize(browser, pending, BIOLOGIST)
        login = await psc.complete(pending, params)
    finally:
        await psc.aclose()
    user = login.user
    assert (user.national_id, user.rpps, user.adeli) == (BIOLOGIST, "99700200001", None)
    assert (user.family_name, user.given_name) == ("BIOLAB", "CLAIRE")
    assert user.professions == ("21",) and user.exercise_modes == ("S",)
    assert user.exercises[0].situation == "21C"
    assert user.exercises[0].activities[0].structure_name == "LABORATOIRE OPENSGL DE TEST"
    assert login.id_claims["acr"] == "eidas1" and login.id_claims["nonce"] == pending.nonce
    assert login.id_claims["aud"] == "opensgl-dev" and login.id_claims["sub"] == user.subject


@pytest.mark.req("SGL.PSC.01")
async def test_adeli_professional_and_two_exercise_modes_SGL_PSC_01(psc_sim: PscSimulator,
                                                                     psc_config: PscConfig) -> None:
    psc = PscClient(psc_config)
    try:
        logins = []
        for national_id in (NURSE_ADELI, "899700200002"):
            pending = await psc.begin()
            async with _browser(psc_sim) as browser:  # a fresh browser: no SSO session
                logins.append(await psc.complete(pending, await _authorize(browser, pending, national_id)))
    finally:
        await psc.aclose()
    nurse, doctor = (login.user for login in logins)
    assert (nurse.rpps, nurse.adeli, nurse.professions) == (None, "699700204", ("60",))
    assert doctor.rpps == "99700200002" and doctor.exercise_modes == ("L", "S")
    assert doctor.exercises[0].skill == "SM26"


@pytest.mark.req("SGL.PSC.01")
async def test_wrong_state_is_refused_before_the_code_is_used_SGL_PSC_01(psc_sim: PscSimulator,
                                                                          psc_config: PscConfig) -> None:
    psc = PscClient(psc_config)
    try:
        pending = await psc.begin()
        async with _browser(psc_sim) as browser:
            params = await _authorize(browser, pending, BIOLOGIST)
        with pytest.raises(PscLoginRefused, match="state"):
            await psc.complete(pending, {**params, "state": "forged-" + params["state"]})
        # the code was not spent by the refused attempt: the genuine callback still works
        assert (await psc.complete(pending, params)).user.rpps == "99700200001"
    finally:
        await psc.aclose()


@pytest.mark.req("SGL.PSC.01")
async def test_replayed_code_is_refused_SGL_PSC_01(psc_sim: PscSimulator, psc_config: PscConfig) -> None:
    psc = PscClient(psc_config)
    try:
        pending = await psc.begin()
        async with _browser(psc_sim) as browser:
            params = await _authorize(browser, pending, BIOLOGIST)
        await psc.complete(pending, params)
        with pytest.raises(PscLoginRefused, match="invalid_grant - authorization code already used"):
            await psc.complete(pending, params)
    finally:
        await psc.aclose()


@pytest.mark.req("SGL.PSC.01")
async def test_code_bound_to_the_pkce_verifier_and_client_secret_SGL_PSC_01(psc_sim: PscSimulator,
                                                                             psc_config: PscConfig) -> None:
    psc = PscClient(psc_config)
    wrong_secret = PscClient(config_for(psc_sim, secret="not-the-secret"))
    try:
        pending = await psc.begin()
        async with _browser(psc_sim) as browser:
            params = await _authorize(browser, pending, BIOLOGIST)
        stolen = PendingLogin(pending.state, pending.nonce, "another-verifier-" + "x" * 40, pending.url,
                              pending.created)
        with pytest.raises(PscLoginRefused, match="PKCE verification failed"):
            await psc.complete(stolen, params)
        pending2 = await psc.begin()
        async with _browser(psc_sim) as browser:
            params2 = await _authorize(browser, pending2, BIOLOGIST)
        with pytest.raises(PscLoginRefused, match="invalid_client"):
            await wrong_secret.complete(pending2, params2)
    finally:
        await psc.aclose()
        await wrong_secret.aclose()


@pytest.mark.req("SGL.PSC.01")
async def test_provider_error_is_reported_SGL_PSC_01(psc_sim: PscSimulator, psc_config: PscConfig) -> None:
    psc = PscClient(psc_config)
    try:
        pending = await psc.begin()
        async with _browser(psc_sim) as browser:
            answer = await browser.get(pending.url.replace("acr_values=eidas1", "acr_values=eidas3"))
        assert answer.status_code == 302
        params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
        assert params["state"] == pending.state
        with pytest.raises(PscLoginRefused, match="invalid_request - acr_values must be eidas1"):
            await psc.complete(pending, params)
    finally:
        await psc.aclose()


@pytest.mark.req("SGL.PSC.01")
async def test_sso_then_logout_ends_the_psc_session_SGL_PSC_01(psc_sim: PscSimulator, psc_config: PscConfig) -> None:
    psc = PscClient(psc_config)
    try:
        async with _browser(psc_sim) as browser:
            first = await psc.begin()
            login = await psc.complete(first, await _authorize(browser, first, BIOLOGIST))
            again = await psc.begin()
            sso = await psc.complete(again, await _authorize(browser, again, None))  # no picker: SSO
            assert sso.user.subject == login.user.subject
            ended_before = psc_sim.state()["ended_sessions"]
            url = await psc.logout_url(sso.id_token, state="bye")
            assert url is not None and "id_token_hint=" in url
            out = await browser.get(url)
            assert out.status_code == 302 and out.headers["location"] == "http://127.0.0.1:9/?state=bye"
            assert psc_sim.state()["ended_sessions"] == ended_before + 1  # type: ignore[operator]
            after = await browser.get((await psc.begin()).url)
            assert after.status_code == 200 and 'name="user"' in after.text  # the picker again
    finally:
        await psc.aclose()


@pytest.mark.req("SGL.PSC.01")
async def test_expired_code_is_refused_SGL_PSC_01(tmp_path: Path) -> None:
    import asyncio

    sim = start_psc_simulator(tmp_path / "pki", "--code-ttl", "0.5")
    psc = PscClient(config_for(sim))
    try:
        pending = await psc.begin()
        async with _browser(sim) as browser:
            params = await _authorize(browser, pending, BIOLOGIST)
        await asyncio.sleep(1.0)
        with pytest.raises(PscLoginRefused, match="authorization code expired"):
            await psc.complete(pending, params)
    finally:
        await psc.aclose()
        sim.stop()
