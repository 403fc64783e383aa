"""Read back the text of our PDFs, as a reader's copy-paste would give it."""

from __future__ import annotations

import re

from tests.web.pages import pdf_text


def pdf_lines(data: bytes) -> str:
    """Every string drawn, joined by single spaces (a wrapped sentence reads whole)."""
    return re.sub(r"\s+", " ", pdf_text(data)).strip()
