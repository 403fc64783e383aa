"""Each letter renders as a PDF that says what it must, in French, for the dossier it is for."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from domain.dossier import Dossier
from domain.exams import ExamResult
from domain.marks import Mark
from letters import fonts
from letters.attendance import attendance_certificate
from letters.convocation import convocation
from letters.layout import LetterContext
from letters.registration_form import RegistrationForm
from letters.regularisation import regularisation_request
from letters.rejection import rejection_letter
from letters.result import result_letter
from letters.transcript import mark_fr, transcript
from tests.factories import campaign
from tests.letters.pdf import pdf_lines
from tests.workflows.conftest import registration

NOW = datetime(2026, 10, 27, 15, 30, tzinfo=UTC)


@pytest.fixture
def ctx() -> LetterContext:
    c = campaign(now=NOW)
    dossier = Dossier.open(registration(c, NOW, last_name="Lœvenbruck", first_name="Zoë", civility="Madame"), NOW)
    return LetterContext.of(dossier, NOW)


def test_every_letter_names_the_candidate_the_exam_and_the_organiser(ctx: LetterContext) -> None:
    exam = next(e for e in campaign(now=NOW).exams if e.code == "ecrit")
    pdfs = {
        "Demande de régularisation": regularisation_request(
            ctx, ["Diplôme(s) requis"], NOW + timedelta(days=10), "Copie lisible"
        ),
        "Courrier de non admission à concourir": rejection_letter(ctx, "Dossier rejeté", "Diplôme insuffisant"),
        "Convocation": convocation(ctx, exam),
        "Attestation de présence": attendance_certificate(ctx, exam),
        "Relevé de notes": transcript(ctx, [Mark("Note de synthèse", 12.5)], "Admissible"),
        "Courrier de résultat": result_letter(ctx, ExamResult.ADMISSIBLE),
    }
    for title, pdf in pdfs.items():
        assert pdf.startswith(b"%PDF-"), title
        text = pdf_lines(pdf)
        assert title.upper() in text.upper(), title
        assert "Zoë LŒVENBRUCK" in text, title  # the embedded font prints « Œ » as typed
        assert ctx.dossier_number in text and "CDG 56" in text, title
        assert "Le mardi 27 octobre 2026" in text, title


def test_the_regularisation_request_lists_what_is_missing_and_until_when(ctx: LetterContext) -> None:
    text = pdf_lines(
        regularisation_request(
            ctx,
            ["Diplôme(s) requis", "Formulaire d'inscription daté et signé"],
            datetime(2026, 11, 6, 16, 0, tzinfo=UTC),
            "Le diplôme doit être lisible.",
        )
    )
    assert "- Diplôme(s) requis - Formulaire d'inscription daté et signé" in text
    assert "au plus tard le vendredi 6 novembre 2026 à 17h00" in text
    assert "Précisions du service : Le diplôme doit être lisible." in text
    assert "Cette demande est la seule relance" in text


def test_the_rejection_letter_gives_each_reason_and_the_remedies(ctx: LetterContext) -> None:
    text = pdf_lines(rejection_letter(ctx, "Dossier non conforme", "Diplôme de niveau insuffisant\n\nHors délai"))
    assert "« Dossier non conforme »" in text
    assert "- Diplôme de niveau insuffisant - Hors délai" in text
    assert "recours gracieux" in text and "tribunal administratif" in text


def test_the_convocation_gives_date_venue_and_prints_the_access_map(ctx: LetterContext) -> None:
    exam = next(e for e in campaign(now=NOW).exams if e.code == "ecrit")
    picture = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(picture, "JPEG")
    with_map = convocation(ctx, exam, picture.getvalue())
    text = pdf_lines(with_map)
    assert f"Lieu {exam.venue}" in text and "Date et heure" in text
    assert "Plan d'accès — " + exam.venue in text
    assert b"/Subtype /Image" in with_map and b"/Count 2" in with_map
    assert b"/Subtype /Image" not in convocation(ctx, exam)


def test_the_transcript_writes_marks_the_french_way() -> None:
    assert [mark_fr(m) for m in (12.5, 14, 9.25, None)] == ["12,5 / 20", "14 / 20", "9,25 / 20", "Absent(e)"]


@pytest.mark.parametrize(
    ("result", "sentence"),
    [
        (ExamResult.ADMISSIBLE, "le jury vous a déclaré(e) admissible"),
        (ExamResult.NOT_ADMISSIBLE, "ne vous a pas déclaré(e) admissible"),
        (ExamResult.PASSED, "le jury vous a déclaré(e) admis(e)"),
        (ExamResult.FAILED, "ne vous a pas déclaré(e) admis(e)"),
    ],
)
def test_result_letters(ctx: LetterContext, result: ExamResult, sentence: str) -> None:
    assert sentence in pdf_lines(result_letter(ctx, result))


@pytest.mark.parametrize(
    ("last_name", "first_name"),
    [
        ("Nguyễn", "Thị Minh Khuê"),
        ("Œhlenschläger", "Cœur"),
        ("Wałęsa", "Łukasz"),
        ("Dvořák", "Jiří"),
        ("Παπαδόπουλος", "Νίκος"),
    ],
)
def test_every_pdf_prints_the_name_exactly_as_typed(last_name: str, first_name: str) -> None:
    c = campaign(now=NOW)
    dossier = Dossier.open(registration(c, NOW, last_name=last_name, first_name=first_name), NOW)
    letter_ctx = LetterContext.of(dossier, NOW)
    exam = next(e for e in c.exams if e.code == "ecrit")
    full_name = dossier.registration.candidate.full_name
    assert last_name.upper() in full_name and first_name in full_name
    pdfs = {
        "convocation": convocation(letter_ctx, exam),
        "rejection": rejection_letter(letter_ctx, "Dossier rejeté", "Diplôme insuffisant"),
        "registration form": RegistrationForm(dossier, NOW).build(),
    }
    for what, pdf in pdfs.items():
        text = pdf_lines(pdf)
        assert full_name in text, what
        assert b"/FontFile2" in pdf and b"DejaVuSans" in pdf, what  # the font travels with the file


def test_letters_with_common_names_share_one_font_subset_and_rare_names_still_print() -> None:
    """The font file of a batch's letters is made once per glyph set (`letters.fonts`): two
    French names add no subset; a name with other letters gets its own, and prints."""
    c = campaign(now=NOW)
    exam = next(e for e in c.exams if e.code == "ecrit")

    def letter(last_name: str, first_name: str) -> tuple[str, bytes]:
        dossier = Dossier.open(registration(c, NOW, last_name=last_name, first_name=first_name), NOW)
        return dossier.registration.candidate.full_name, convocation(LetterContext.of(dossier, NOW), exam)

    letter("Le Goff", "Maëlle")  # the common subsets exist from here on
    before = fonts.subsets_cached()
    for last_name, first_name in [("Kerhervé", "Gwenaël"), ("Quéré", "Loïc"), ("L'Hôte-Dupré", "Anaïs")]:
        full_name, pdf = letter(last_name, first_name)
        assert full_name in pdf_lines(pdf)
    assert fonts.subsets_cached() == before
    full_name, pdf = letter("Ŧhuy", "Ǹam")
    assert full_name in pdf_lines(pdf)
    with_rare = fonts.subsets_cached()
    assert with_rare > before
    letter("Ŧhuy", "Ǹam")  # the same letters again: the same subset
    assert fonts.subsets_cached() == with_rare
