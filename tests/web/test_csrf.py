"""CSRF tokens are bound to the session: a nonce cookie planted in a victim's browser, with the
token the attacker got for it, does not make a forged form pass."""

from __future__ import annotations

from fastapi import FastAPI
from temporalio.client import Client

from tests.web.conftest import NewCandidate
from tests.web.pages import client as http_client
from tests.web.pages import submit, text_of, token_in
from web.csrf import COOKIE as CSRF_COOKIE
from workflows.dossier import DossierWorkflow

REFUSED = "Ce formulaire a expiré ou ne provient pas de ce site."


async def test_a_planted_nonce_cookie_does_not_let_a_forged_form_through(
    app: FastAPI, new_candidate: NewCandidate, client: Client
) -> None:
    victim = await new_candidate()
    attacker = await new_candidate()
    before = await client.get_workflow_handle(victim.number).query(DossierWorkflow.view)

    # The attacker takes a nonce and its token from their own visits: anonymous, and logged in.
    async with http_client(app) as anonymous:
        anonymous_token = token_in(await anonymous.get("/connexion"))
        anonymous_nonce = anonymous.cookies[CSRF_COOKIE]
    own_page = await attacker.http.get("/espace/adresse")
    attacker_token, attacker_nonce = token_in(own_page), attacker.http.cookies[CSRF_COOKIE]

    for nonce, token in ((anonymous_nonce, anonymous_token), (attacker_nonce, attacker_token)):
        # Planted in the victim's browser (a sibling subdomain, or a plain-http answer, can set a
        # cookie without the `__Host-` prefix), then a cross-site form posts with its token.
        victim.http.cookies.delete(CSRF_COOKIE)
        victim.http.cookies.set(CSRF_COOKIE, nonce)
        forged = await victim.http.post(
            "/espace/adresse",
            data={
                "csrf_token": token,
                "line1": "1 rue du Piège",
                "postal_code": "75001",
                "city": "Paris",
            },
        )
        assert forged.status_code == 403 and REFUSED in text_of(forged)

    after = await client.get_workflow_handle(victim.number).query(DossierWorkflow.view)
    assert after.registration.candidate.address == before.registration.candidate.address
    # The victim's own forms still work, with the cookie they get back.
    victim.http.cookies.delete(CSRF_COOKIE)
    assert (await submit(victim.http, "/deconnexion", page="/espace")).status_code == 303


async def test_a_token_shown_before_login_is_refused_after_it_and_the_login_token_works(
    app: FastAPI, new_candidate: NewCandidate
) -> None:
    candidate = await new_candidate()
    async with http_client(app) as http:
        before = token_in(await http.get("/connexion"))
        credentials = {"dossier_number": candidate.number, "password": candidate.password}
        login = await http.post("/api/session", json=credentials)
        assert login.status_code == 200
        assert (await http.post("/deconnexion", data={"csrf_token": before})).status_code == 403
        # The token the login answers with is bound to the new session.
        out = await http.post("/deconnexion", data={"csrf_token": login.json()["csrf_token"]})
        assert out.status_code == 303
