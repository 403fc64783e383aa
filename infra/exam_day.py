"""The rows of an exam-day batch: one per convened candidate, written chunk by chunk.

The exam-day documents (attendance sheet, door list, accommodations list, CSV) are sorted
alphabetically over the whole exam, so the batch first gathers one row per dossier here, keyed
by the batch and the dossier: a chunk retried after a worker crash writes the same rows again
(a merge, not a second row), and the final step reads them in order.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from infra.clock import now
from infra.database import Base


class ExamDayEntry(Base):
    __tablename__ = "exam_day_entries"

    batch_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    dossier_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    sort_key: Mapped[str] = mapped_column(String(300), index=True)  # last name, first name, folded
    civility: Mapped[str] = mapped_column(String(20))
    last_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    route: Mapped[str] = mapped_column(String(200))
    accommodations: Mapped[str] = mapped_column(Text, default="")  # granted labels, one a line
    created_at: Mapped[datetime] = mapped_column(default=now)
