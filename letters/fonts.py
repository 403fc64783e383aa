"""The one font of every PDF we print: DejaVu Sans, embedded, so a name prints as it was typed.

fpdf2's core fonts (Helvetica) only know Latin-1: « Œ » became « OE » and « Nguyễn » lost its
marks. DejaVu Sans (free licence, `fonts/LICENSE-DejaVu.txt`, shipped here so no machine needs
a font package) covers Latin with every diacritic (Vietnamese included), Greek and Cyrillic.
Every FPDF document calls `embed(pdf)` once, then `pdf.set_font(FAMILY, ...)`.

Speed: `FPDF.add_font` parses the whole TTF for every document, too slow for a batch of
thousands of convocations. So the shipped files are already cut down to the scripts above
(`python -m devtools.cut_fonts` made them from Debian's fonts-dejavu-core), and each process
keeps, once, the metrics fpdf2 computes from them; each document gets a copy with its own glyph
subset. This uses fpdf2's `TTFFont` as `add_font` does (checked against fpdf2 2.8);
`tests/letters` reads the names back from the PDFs, so a change in fpdf2 that breaks it fails
there. A document still costs several times what it did with the core fonts (fpdf2 subsets
and writes the font into each file).
"""

from __future__ import annotations

import copy
import io
import threading
from functools import cache
from pathlib import Path

from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

FAMILY = "DejaVu"

_DIR = Path(__file__).parent / "fonts"
_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

_lock = threading.Lock()  # letters are printed from activity threads


@cache
def _font_bytes(style: str) -> bytes:
    return (_DIR / _FILES[style]).read_bytes()


@cache
def _template(style: str) -> TTFFont:
    return TTFFont(FPDF(), io.BytesIO(_font_bytes(style)), f"{FAMILY.lower()}{style}", style)  # type: ignore[arg-type]


def embed(pdf: FPDF) -> None:
    """Make FAMILY (regular and bold) usable in `pdf`; call it once per document."""
    for style in _FILES:
        with _lock:
            template = _template(style)
        font = copy.copy(template)  # shares the read-only metrics (widths, cmap, descriptor)
        font.i = len(pdf.fonts) + 1
        # What output() changes in place (the glyphs used, the font it subsets), per document.
        font.ttfont = ttLib.TTFont(io.BytesIO(_font_bytes(style)), recalcTimestamp=False, lazy=True)
        font.subset = SubsetMap(font)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font._hbfont = None
        pdf.fonts[font.fontkey] = font
