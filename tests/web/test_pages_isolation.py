"""A candidate reaches only their own dossier, and every form needs its CSRF token.

Both tests list the candidate routes from the routers themselves: a route added later without
being covered here makes them fail.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from temporalio.client import Client

from infra.database import Database
from infra.files import FileStore
from infra.settings import Settings
from tests.web.conftest import NewCandidate
from tests.web.pages import PDF, client, deposit, open_campaign, pdf_text, submit, text_of, token_in
from web.candidate import auth, documents, public, space
from web.csrf import COOKIE as CSRF_COOKIE
from workflows.dossier import DossierWorkflow, Validate

PAGE_ROUTERS = (public, auth, space, documents)


def readable(response: httpx.Response) -> str:
    if response.headers.get("content-type") == "application/pdf":
        return pdf_text(response.content)
    return response.content.decode("utf-8", errors="replace").replace("\r\n ", "")  # unfold .ics lines


def routes(method: str) -> set[str]:
    return {r.path for m in PAGE_ROUTERS for r in m.router.routes if method in r.methods}


async def other_dossier_with_files(
    new_candidate: NewCandidate, client_: Client, database: Database, settings: Settings, campaign_id: str
):
    """Candidate B: validated, one upload, one released centre document."""
    b = await new_candidate(campaign_id, first_name="Zoé", last_name="Bernardin", email="zoe.bernardin@example.fr")
    page = await b.http.get("/espace/pieces")
    uploaded = await b.http.post(
        "/espace/pieces",
        data={"category": "diplome", "csrf_token": token_in(page)},
        files={"fichier": ("diplome-de-zoe.pdf", PDF, "application/pdf")},
    )
    assert uploaded.status_code == 303
    handle = client_.get_workflow_handle(b.number)
    await handle.execute_update(DossierWorkflow.validate, Validate(True))
    await deposit(client_, FileStore(settings.files_dir), database, b.number, "Lettre pour Zoé")
    view = await handle.query(DossierWorkflow.view)
    return b, view


async def test_a_candidate_reaches_no_other_dossier_on_any_route(
    app: FastAPI, new_candidate: NewCandidate, client: Client, database: Database, settings: Settings
) -> None:
    c = await open_campaign(database)
    b, b_before = await other_dossier_with_files(new_candidate, client, database, settings, c.id)
    b_upload = b_before.uploads[0].ref
    b_document = b_before.documents[0].ref
    a = await new_candidate(c.id)
    http = a.http
    secrets = [b.number, "Bernardin", "BERNARDIN", "zoe.bernardin", "diplome-de-zoe", "Lettre pour Zoé"]
    # Every way a number could be slipped in: query string and form fields.
    q = f"?dossier_number={b.number}&numero={b.number}&dossier={b.number}"
    inject = {"dossier_number": b.number, "numero": b.number, "dossier": b.number}

    gets = {
        "/espace": [f"/espace{q}"],
        "/espace/calendrier.ics": [f"/espace/calendrier.ics{q}"],
        "/espace/formulaire-inscription.pdf": [f"/espace/formulaire-inscription.pdf{q}"],
        "/espace/validation": [f"/espace/validation{q}"],
        "/espace/mes-donnees": [f"/espace/mes-donnees{q}"],
        "/espace/adresse": [f"/espace/adresse{q}"],
        "/espace/desistement": [f"/espace/desistement{q}"],
        "/espace/desistement/confirmation": [f"/espace/desistement/confirmation{q}"],
        "/espace/pieces": [f"/espace/pieces{q}"],
        "/espace/documents": [f"/espace/documents{q}"],
        "/preinscription/confirmation": [f"/preinscription/confirmation{q}"],
        # B's files, named by their references: not in A's dossier, so not found.
        "/espace/pieces/{ref}": [f"/espace/pieces/{b_upload}", f"/espace/pieces/{b_document}"],
        "/espace/documents/{ref}": [f"/espace/documents/{b_document}", f"/espace/documents/{b_upload}"],
    }
    logged_in_gets = {p for p in routes("GET") if p.startswith("/espace") or p == "/preinscription/confirmation"}
    assert logged_in_gets == set(gets), "a candidate route is not covered by this test"
    for template, urls in gets.items():
        for url in urls:
            response = await http.get(url)
            body = readable(response)
            assert not any(s in body for s in secrets), url
            if "{ref}" in template:
                assert response.status_code == 404, url
            else:
                assert response.status_code == 200, url
                assert a.number in body, url  # A's own dossier, whatever was asked for

    posts: dict[str, dict[str, Any]] = {
        "/espace/pieces": {
            "data": {**inject, "category": "diplome"},
            "files": {"fichier": ("a.pdf", PDF, "application/pdf")},
        },
        "/espace/adresse": {
            "data": {**inject, "line1": "1 rue A", "postal_code": "56000", "city": "Vannes", "country": "France"}
        },
        "/espace/validation": {"data": {**inject, "sworn_statement": "oui"}},
        # B's number as "my new pre-registration": no replacement request joins them, so nothing.
        "/espace/remplacement": {"data": {**inject, "nouveau_dossier": b.number}, "expect": (404,)},
        "/espace/desistement": {"data": {**inject, "confirmation": "oui"}},
    }
    logged_in_posts = {p for p in routes("POST") if p.startswith("/espace")}
    assert logged_in_posts == set(posts), "a candidate form is not covered by this test"
    for path, kwargs in posts.items():
        response = await submit(http, path, kwargs["data"], page="/espace/mes-donnees", files=kwargs.get("files"))
        assert response.status_code in kwargs.get("expect", (303, 200)), (path, response.status_code)
        assert not any(s in response.text for s in secrets), path

    # The JSON API, the same way.
    assert b.number not in (await http.get(f"/api/dossier{q}")).text
    await http.post(
        "/api/dossier/adresse",
        json={"line1": "2 rue A", "postal_code": "56000", "city": "Vannes", "dossier_number": b.number},
    )

    # A's actions landed on A; B's dossier did not move.
    a_after = await client.get_workflow_handle(a.number).query(DossierWorkflow.view)
    assert a_after.status.label == "Inscription annulée à votre demande"
    assert len(a_after.uploads) == 1
    b_after = await client.get_workflow_handle(b.number).query(DossierWorkflow.view)
    assert b_after.status == b_before.status
    assert b_after.registration.candidate.address == b_before.registration.candidate.address
    assert [u.ref for u in b_after.uploads] == [b_upload]
    assert len(b_after.timeline) == len(b_before.timeline)


async def test_every_form_refuses_a_post_without_its_csrf_token(app: FastAPI, new_candidate: NewCandidate) -> None:
    a = await new_candidate()
    posts = routes("POST")
    concrete = {p.replace("{campaign_id}", "c"): p for p in posts}
    await a.http.get("/espace")  # holds a CSRF cookie, as a real browser would
    assert a.http.cookies.get(CSRF_COOKIE)

    for url in concrete:
        missing = await a.http.post(
            url, data={"dossier_number": a.number, "sworn_statement": "oui", "confirmation": "oui"}
        )
        forged = await a.http.post(url, data={"csrf_token": "x" * 60, "confirmation": "oui"})
        assert missing.status_code == 403, url
        assert forged.status_code == 403, url
        assert "Ce formulaire a expiré ou ne provient pas de ce site." in text_of(missing)

    # Another browser's valid token does not work with this browser's cookie.
    async with client(app) as other:
        stolen = token_in(await other.get("/connexion"))
        response = await a.http.post("/espace/validation", data={"csrf_token": stolen, "sworn_statement": "oui"})
        assert response.status_code == 403
    view = (await a.http.get("/espace")).text
    assert "En attente de votre dossier" in view


async def test_csrf_cookie_is_httponly_and_samesite(http: httpx.AsyncClient) -> None:
    page = await http.get("/connexion")
    cookie = next(c for c in page.headers.get_list("set-cookie") if c.startswith(CSRF_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
