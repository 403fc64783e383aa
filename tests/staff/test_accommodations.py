"""Exam accommodations through the real pages: the candidate asks from their space with the
certificate, staff see it on the dossier page and decide, the candidate is mailed and reads
the answer in their space; the timeline keeps both steps."""

from __future__ import annotations

from sqlalchemy import select

from devtools.mail_sink import MailSink
from infra.database import StoredFile
from infra.staff_accounts import StaffRole
from tests.backoffice import error_of, post_form, view
from tests.conftest import mail_with_subject
from tests.web.conftest import cheap_password_hashing, new_candidate  # noqa: F401  (fixtures)
from tests.web.pages import PDF, submit, text_of

PAGE = "/espace/amenagements"


async def test_a_request_from_the_space_is_decided_by_staff_and_read_by_the_candidate(
    new_candidate,  # noqa: F811  (the fixture imported above)
    staff,
    client,
    database,
    mail_sink: MailSink,
) -> None:
    candidate = await new_candidate()
    http, number = candidate.http, candidate.number
    shown = await http.get(PAGE)
    assert shown.status_code == 200
    assert "Les demandes sont reçues jusqu'au" in text_of(shown)

    # Refused before anything is stored: no certificate, then "other" without saying what.
    no_file = await submit(http, PAGE, {"amenagements": ["tiers_temps"]})
    assert no_file.status_code == 409
    assert "certificat d'un médecin agréé" in error_of(no_file)
    vague = await submit(
        http,
        PAGE,
        {"amenagements": ["autre"]},
        files={"certificat": ("certificat.pdf", PDF, "application/pdf")},
    )
    assert vague.status_code == 409 and "Précisez" in error_of(vague)
    async with database.sessions() as session:  # nothing stored for the refused requests
        assert (await session.scalars(select(StoredFile).where(StoredFile.dossier_number == number))).all() == []
    assert (await view(client, number)).accommodations is None

    sent = await submit(
        http,
        PAGE,
        {"amenagements": ["tiers_temps", "secretaire"], "precision": ""},
        files={"certificat": ("certificat-medical.pdf", PDF, "application/pdf")},
    )
    assert sent.status_code == 303, error_of(sent)
    page = text_of(await http.get(sent.headers["location"]))
    assert "Votre demande d'aménagements d'épreuves est enregistrée" in page
    assert "Demande en cours d'examen" in page and "certificat-medical.pdf" in page
    await mail_with_subject(mail_sink, number, "Demande d'aménagements d'épreuves enregistrée")
    again = await submit(
        http, PAGE, {"amenagements": ["salle_isolee"]}, files={"certificat": ("c.pdf", PDF, "application/pdf")}
    )
    assert "déjà enregistrée" in text_of(again)

    # Staff: the request and its certificate on the dossier page, then a partial grant.
    instructor = await staff(StaffRole.INSTRUCTOR)
    dossier_page = f"/staff/dossiers/{number}"
    shown = await instructor.get(dossier_page)
    acc = (await view(client, number)).accommodations
    assert acc is not None
    certificate = acc.certificates[0]
    assert f"/staff/dossiers/{number}/fichiers/{certificate.ref}" in shown.text
    served = await instructor.get(f"/staff/dossiers/{number}/fichiers/{certificate.ref}")
    assert served.status_code == 200 and served.content == PDF
    no_reason = await post_form(
        instructor,
        dossier_page,
        f"{dossier_page}/amenagements",
        {"outcome": "accorde_partiellement", "granted": ["tiers_temps"]},
    )
    assert no_reason.status_code == 409 and "motif" in error_of(no_reason)
    decided = await post_form(
        instructor,
        dossier_page,
        f"{dossier_page}/amenagements",
        {
            "outcome": "accorde_partiellement",
            "granted": ["tiers_temps"],
            "reason": "Le certificat ne justifie pas l'assistance d'un secrétaire.",
        },
    )
    assert decided.status_code == 303, error_of(decided)
    twice = await post_form(instructor, dossier_page, f"{dossier_page}/amenagements", {"outcome": "accorde"})
    assert twice.status_code == 409 and "déjà été instruite" in error_of(twice)

    mail = await mail_with_subject(mail_sink, number, "Aménagements accordés en partie")
    assert "Temps de composition majoré (tiers-temps)" in mail.body
    assert "Assistance d'un secrétaire" in mail.body and "ne justifie pas" in mail.body

    page = text_of(await http.get(PAGE))
    assert "Aménagements accordés en partie" in page
    assert "Temps de composition majoré (tiers-temps)" in page and "ne justifie pas" in page
    timeline = text_of(await http.get("/espace"))
    assert "Demande d'aménagements d'épreuves" in timeline and "Aménagements accordés en partie" in timeline
    # The candidate can fetch their own certificate back.
    assert (await http.get(f"/espace/pieces/{certificate.ref}")).status_code == 200
