"""« Télécharger mes données »: everything the centre holds about the candidate (RGPD, art. 15),
as a JSON file for machines and a PDF for people, both from `domain.personal_data`.

The dossier comes from its workflow (`view`), the account and the emails sent from SQL; the
dossier number only from the signed session, like every page of the space.
"""

from __future__ import annotations

import json

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from domain.dossier import Dossier
from domain.personal_data import AccountFacts, PersonalDataExport, SentMailFacts, personal_data_export
from infra.clock import now
from infra.database import Account, SentMail
from letters.personal_data import personal_data_pdf
from web.candidate.deps import MyDossier
from web.deps import SessionDep

router = APIRouter(prefix="/espace/mes-donnees")


async def _export(dossier: Dossier, db: SessionDep) -> PersonalDataExport:
    number = dossier.dossier_number
    account = await db.get(Account, number)
    sent = await db.scalars(
        select(SentMail).where(SentMail.key.startswith(f"{number}/", autoescape=True)).order_by(SentMail.sent_at)
    )
    mails = [SentMailFacts(m.recipient, m.subject, m.sent_at) for m in sent]
    facts = AccountFacts(account.email, account.created_at) if account else None
    return personal_data_export(dossier, facts, mails, now())


def _attachment(data: bytes, media_type: str, filename: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"},
    )


@router.get("/export.json")
async def export_json(dossier: MyDossier, db: SessionDep) -> Response:
    export = await _export(dossier, db)
    data = json.dumps(export.as_json(), ensure_ascii=False, indent=2).encode()
    return _attachment(data, "application/json; charset=utf-8", f"mes-donnees-{dossier.dossier_number}.json")


@router.get("/export.pdf")
async def export_pdf(dossier: MyDossier, db: SessionDep) -> Response:
    export = await _export(dossier, db)
    return _attachment(personal_data_pdf(export), "application/pdf", f"mes-donnees-{dossier.dossier_number}.pdf")
