"""Which generated letter went into which dossier, so a retried action never issues it twice.

A letter is keyed by what it is for ("RED2027-00012/convocation/ecrit"): the first attempt
stores the PDF and records its file reference here, in the same transaction as the file's row;
a retry (an activity retried after a worker crash, a second click) finds the key and deposits
that same file, which the dossier recognises by its reference.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from infra.clock import now
from infra.database import Base


class GeneratedDocument(Base):
    __tablename__ = "generated_documents"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    ref: Mapped[str] = mapped_column(String(64))
    dossier_number: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)
