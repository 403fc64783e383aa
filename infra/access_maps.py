"""Access maps of exam venues: a picture per exam date of a campaign, printed with each
convocation. The campaign's definition (a domain snapshot every dossier carries) holds no
file bytes nor references; the maps live here and in the file store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from infra.clock import now
from infra.database import Base

# fpdf2 embeds these in the convocation; a PDF map could not be printed inside it.
ACCESS_MAP_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF"}


class ExamAccessMap(Base):
    __tablename__ = "exam_access_maps"

    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    exam_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    ref: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


async def access_maps(session: AsyncSession, campaign_id: str) -> dict[str, ExamAccessMap]:
    rows = await session.scalars(select(ExamAccessMap).where(ExamAccessMap.campaign_id == campaign_id))
    return {row.exam_code: row for row in rows}
