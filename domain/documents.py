"""Documents: what a candidate may upload, and what the centre deposits in the space."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# "Format(s) autorisé(s) : PDF ou GIF ou JPEG ou PNG (10 Mo maximum par document)"
ALLOWED_MIME_TYPES = {
    "application/pdf": "PDF",
    "image/gif": "GIF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@dataclass
class UploadedDocument:
    """A candidate's file as the dossier knows it: a reference, never the bytes."""

    ref: str
    category: str
    filename: str
    size: int
    sha256: str
    content_type: str
    uploaded_at: datetime
    # When the web received it (its clock): the upload windows are judged at this instant.
    # None in uploads recorded before the receipt-time rule (judged when the workflow saw them).
    received_at: datetime | None = None


class CentreDocumentKind(StrEnum):
    CONVOCATION = "convocation"
    ACCESS_MAP = "plan_acces"
    ATTENDANCE = "attestation_presence"
    TRANSCRIPT = "releve_notes"
    RESULT_LETTER = "courrier_resultat"
    REJECTION_LETTER = "courrier_non_admission"
    REGULARISATION = "demande_regularisation"
    LETTER = "courrier"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    @property
    def is_for_an_exam(self) -> bool:
        """Released about 15 days before its exam rather than at once."""
        return self in (CentreDocumentKind.CONVOCATION, CentreDocumentKind.ACCESS_MAP)


_KIND_LABELS = {
    CentreDocumentKind.CONVOCATION: "Convocation",
    CentreDocumentKind.ACCESS_MAP: "Plan d'accès",
    CentreDocumentKind.ATTENDANCE: "Attestation de présence",
    CentreDocumentKind.TRANSCRIPT: "Relevé de notes",
    CentreDocumentKind.RESULT_LETTER: "Courrier de résultat",
    CentreDocumentKind.REJECTION_LETTER: "Courrier de non admission à concourir",
    CentreDocumentKind.REGULARISATION: "Demande de régularisation",
    CentreDocumentKind.LETTER: "Courrier",
}


@dataclass
class CentreDocument:
    """A document the centre deposited; the candidate sees it from `release_at` on."""

    ref: str
    kind: CentreDocumentKind
    title: str
    exam_code: str | None
    deposited_at: datetime
    release_at: datetime
    released_at: datetime | None = None
    # Set when the candidate can no longer sit the exam before the release instant came.
    withheld: bool = False
    # What a convocation prints for the candidate's granted accommodations, as printed; None when
    # not known (printed before it was recorded, or found already printed under its key).
    accommodations: list[str] | None = None
    # The version that replaced this one (a convocation printed again after a later decision on
    # accommodations): the candidate then sees only that one.
    replaced_by: str | None = None


@dataclass
class ConvocationReprint:
    """A convocation to print again because the accommodations it prints are no longer those
    granted. Ordered by the dossier's rules, printed by its workflow, which deposits the new
    version in the old one's place; kept afterwards, so the same decision never orders it twice."""

    replaces: str  # the reference of the convocation printed with other accommodations
    exam_code: str
    accommodations: list[str]  # what the new version prints
    ordered_at: datetime
    done_at: datetime | None = None
    ref: str | None = None  # the new version, once deposited
    skipped: str = ""  # why no new version was deposited (the exam passed, the dossier refused it…)

    @property
    def pending(self) -> bool:
        return self.done_at is None

    @property
    def version(self) -> str:
        """Names the new version in its letter's key: one version per set of accommodations, so a
        repeated print finds the same file, which prints exactly these."""
        digest = hashlib.sha256("\n".join(self.accommodations).encode()).hexdigest()[:12]
        return f"amenagements-{digest}"
