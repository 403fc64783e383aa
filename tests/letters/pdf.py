"""Read back the text of the PDFs fpdf2 makes, for wording checks."""

from __future__ import annotations

import re

from tests.web.pages import pdf_text

_SHOW = re.compile(rb"\((?:[^()\\]|\\.)*\)\s*Tj")


def pdf_lines(data: bytes) -> str:
    """Every string drawn, unescaped, joined by spaces (a wrapped sentence reads whole)."""
    raw = pdf_text(data).encode("latin-1")
    parts = []
    for shown in _SHOW.findall(raw):
        body = shown[shown.index(b"(") + 1 : shown.rindex(b")")]
        body = re.sub(rb"\\([()\\])", rb"\1", body)
        parts.append(body.decode("latin-1"))
    return re.sub(r"\s+", " ", " ".join(parts))
