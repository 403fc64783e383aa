"""The « déclaration d'accessibilité »: published, with what RGAA asks, and reached from the
footer of every kind of page (public, candidate space, staff back office)."""

from __future__ import annotations

import httpx

from tests.web.pages import text_of

FOOTER_LINK = '<a href="/accessibilite"'


async def test_the_statement_says_what_rgaa_asks(http: httpx.AsyncClient) -> None:
    page = await http.get("/accessibilite")
    assert page.status_code == 200
    text = text_of(page)
    assert "Déclaration d'accessibilité" in text
    assert "partiellement conforme" in text and "RGAA" in text and "4.1" in text  # conformity level
    assert "Résultats des tests" in text and "axe-core" in text  # how it is checked
    assert "thématique 11" in text  # criteria checked
    assert "mailto:concours@cdg.example.fr" in page.text  # a contact
    assert "Défenseur des droits" in text and "Libre réponse 71120" in text  # the recourse


async def test_every_kind_of_page_links_it_from_its_footer(http: httpx.AsyncClient) -> None:
    for path in ("/", "/connexion", "/staff/connexion", "/accessibilite"):
        page = await http.get(path)
        assert page.status_code == 200, path
        footer = page.text[page.text.index('<footer class="site-footer">') :]
        assert FOOTER_LINK in footer, path
