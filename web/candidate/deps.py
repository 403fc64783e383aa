"""What candidate pages depend on: the logged-in candidate and their own dossier.

The dossier number comes only from the signed session cookie: no page takes it from the URL or
a form, so a candidate can reach no dossier but their own. A cookie opened before the last
password change is refused like no cookie (`web.deps.session_candidate`).
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request

from domain.dossier import Dossier
from domain.summary import DossierSummary
from infra.clock import now
from web.deps import ClientDep, session_candidate
from web.errors import LoginRequired
from web.middleware import QUERY_SECONDS

LOGIN_URL = "/connexion"

# Messages shown after a redirect (`?ok=<code>`); the code never echoes user input.
FLASH = {
    "validee": "Votre demande d'inscription est validée. Elle est « En cours de transfert ».",
    "piece": "Le fichier a bien été ajouté à votre dossier.",
    "adresse": "Votre changement d'adresse est enregistré.",
    "amenagements": "Votre demande d'aménagements d'épreuves est enregistrée. "
    "Vous serez informé(e) par mail de la réponse.",
    "desistement": "Votre désistement est enregistré : votre inscription est annulée.",
    "remplacement": "Le remplacement est confirmé : ce dossier est clos, votre nouvelle préinscription le remplace.",
    "mot-de-passe": "Votre mot de passe est modifié. Connectez-vous avec votre nouveau mot de passe.",
    "deconnexion": "Vous êtes déconnecté(e) de votre espace sécurisé.",
}


def flash(request: Request) -> str | None:
    return FLASH.get(request.query_params.get("ok", ""))


async def candidate_page(number: Annotated[str | None, Depends(session_candidate)]) -> str:
    """The logged-in candidate's dossier number, or a redirect to the login page."""
    if number is None:
        raise LoginRequired(LOGIN_URL)
    return number


CandidatePage = Annotated[str, Depends(candidate_page)]


async def my_summary(request: Request, number: CandidatePage, client: ClientDep) -> DossierSummary:
    """What the pages show of the candidate's dossier, now (the `summary` query)."""
    started = time.perf_counter()
    summary = await client.summary(number, now())
    request.scope.setdefault("state", {})[QUERY_SECONDS] = time.perf_counter() - started
    return summary


async def my_dossier(request: Request, number: CandidatePage, client: ClientDep) -> Dossier:
    """The whole dossier, for the downloads built from it (calendar, registration form)."""
    started = time.perf_counter()
    dossier = await client.view(number)
    request.scope.setdefault("state", {})[QUERY_SECONDS] = time.perf_counter() - started
    return dossier


MySummary = Annotated[DossierSummary, Depends(my_summary)]
MyDossier = Annotated[Dossier, Depends(my_dossier)]
