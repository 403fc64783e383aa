"""The one font of every PDF we print: DejaVu Sans, embedded, so a name prints as it was typed.

fpdf2's core fonts (Helvetica) only know Latin-1: « Œ » became « OE » and « Nguyễn » lost its
marks. DejaVu Sans (free licence, `fonts/LICENSE-DejaVu.txt`, shipped here so no machine needs
a font package) covers Latin with every diacritic (Vietnamese included), Greek and Cyrillic.
Every FPDF document calls `embed(pdf)` once, then `pdf.set_font(FAMILY, ...)`.

Speed: `FPDF.add_font` parses the whole TTF (about 6,000 glyphs) for every document, some
100 ms each, too slow for a batch of thousands of convocations. So each process keeps, once:
the font cut down to the scripts above (fewer glyphs to read and subset per document), and the
metrics fpdf2 computes from it; each document gets a copy with its own glyph subset. This uses
fpdf2's `TTFFont` as `add_font` does (checked against fpdf2 2.8); `tests/letters` reads the
names back from the PDFs, so a change in fpdf2 that breaks it fails there.
"""

from __future__ import annotations

import copy
import io
import threading
from functools import cache
from pathlib import Path

from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

FAMILY = "DejaVu"

_DIR = Path(__file__).parent / "fonts"
_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

# What names and letters need: Latin (with every extension, Vietnamese's included), combining
# marks, Greek, Cyrillic, punctuation (« » ’ — …), currency (€) and a few symbols.
_RANGES = (
    (0x0020, 0x007E),
    (0x00A0, 0x036F),
    (0x0370, 0x03FF),
    (0x0400, 0x052F),
    (0x1E00, 0x1EFF),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
    (0x2100, 0x214F),
    (0x2190, 0x21FF),
    (0x2200, 0x22FF),
    (0x25A0, 0x25FF),
)

_lock = threading.Lock()  # letters are printed from activity threads


@cache
def _font_bytes(style: str) -> bytes:
    font = ttLib.TTFont(_DIR / _FILES[style], recalcTimestamp=False)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, hinting=False, name_IDs=["*"])
    # fpdf2 drops the layout tables when it embeds a font (it does no shaping here): drop them now.
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "FFTM", "kern", "hdmx"]
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=[code for first, last in _RANGES for code in range(first, last + 1)])
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


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
