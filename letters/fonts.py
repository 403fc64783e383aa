"""The one font of every PDF we print: DejaVu Sans, embedded, so a name prints as it was typed.

fpdf2's core fonts (Helvetica) only know Latin-1: « Œ » became « OE » and « Nguyễn » lost its
marks. DejaVu Sans (free licence, `fonts/LICENSE-DejaVu.txt`, shipped here so no machine needs
a font package) covers Latin with every diacritic (Vietnamese included), Greek and Cyrillic.
Every FPDF document calls `embed(pdf)` once, then `pdf.set_font(FAMILY, ...)`.

Speed, for batches of thousands of convocations:
- `FPDF.add_font` parses the whole TTF for every document. So the shipped files are already cut
  down to the scripts above (`python -m devtools.cut_fonts` made them from Debian's
  fonts-dejavu-core), and each process keeps, once, the metrics fpdf2 computes from them; each
  document gets a copy with its own glyph subset (fpdf2's `TTFFont`, as `add_font` makes it).
- fpdf2 then subsets the font for every file it writes (fontTools: read the cmap, prune, compile
  the glyphs), about three quarters of a letter's time (profiled: 160 ms a convocation, 120 of
  them in the subsetting). Most letters use the same glyphs: every document's subset starts
  with `COMMON_TEXT` (French text, in a fixed order), so a letter whose names and addresses
  need nothing else has exactly the subset of the previous one, and the font file made for it
  once is written again (`_SubsetFont`, cached per glyph set). A name with other letters
  (« Nguyễn ») gets its own subset, made the same way and cached too.
- What remains per file of the font work is cached the same way: the common glyphs are picked
  once per process (`_common_subset`) and copied into each document, and the big streams that
  repeat in every file of a glyph set (the font file, the 128 kB CID-to-glyph map) are
  compressed once (`_compress`, fpdf2's zlib). Profiled: 17 ms a convocation before, see the
  commit that brought this.
This uses fpdf2's internals (checked against fpdf2 2.8.9): `TTFFont` as `add_font` builds it,
and its output's `ftsubset.Subsetter(options).populate(glyphs=...)`, `.subset(font.ttfont)`,
then `font.ttfont.getGlyphID(...)` and `.save(...)`; `tests/letters` reads the names back from
the PDFs and checks the cache, so a change in fpdf2 that breaks this fails there.
"""

from __future__ import annotations

import copy
import io
import string
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO

import fpdf.output
import fpdf.syntax
from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

FAMILY = "DejaVu"

_DIR = Path(__file__).parent / "fonts"
_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

# The characters of French letters, names and addresses, in every subset in this order: a
# letter using only these shares its font file with every other one (a few kB more per file
# than a tight subset, against ~120 ms of subsetting saved per file).
COMMON_TEXT = (
    string.ascii_letters
    + string.digits
    + string.punctuation
    + "àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ"
    + "«»’‘“”–—…°€§²\u00a0\u202f"
)
SUBSETS_KEPT = 64  # distinct glyph sets whose font file a process keeps (rare names add some)

_lock = threading.Lock()  # letters are printed from several threads at once


@cache
def _font_bytes(style: str) -> bytes:
    return (_DIR / _FILES[style]).read_bytes()


class _EmbeddedFont(TTFFont):
    """fpdf2's font, measuring text faster: its line breaking measures each line again at every
    space (profiled: a third of a letter's time went to summing character widths), and most of
    those lines are the same in every letter, so their widths are remembered."""

    def get_text_width(
        self, text: str, font_size_pt: float, text_shaping_params: dict[str, Any] | None
    ) -> tuple[int, float]:
        if text_shaping_params or self.is_symbol:
            return super().get_text_width(text, font_size_pt, text_shaping_params)
        if font_size_pt > self.biggest_size_pt:
            self.biggest_size_pt = font_size_pt
        return len(text), _units(self.fontkey, text) * font_size_pt * 0.001


@lru_cache(maxsize=8192)
def _units(fontkey: str, text: str) -> float:
    """The width of `text` in the font's units (thousandths of its size)."""
    widths = _WIDTHS[fontkey]
    return sum(map(widths.__getitem__, map(ord, text)))


_WIDTHS: dict[str, dict[int, float]] = {}


@cache
def _template(style: str) -> TTFFont:
    font = _EmbeddedFont(FPDF(), io.BytesIO(_font_bytes(style)), f"{FAMILY.lower()}{style}", style)  # type: ignore[arg-type]
    _WIDTHS[font.fontkey] = font.cw
    return font


def embed(pdf: FPDF) -> None:
    """Make FAMILY (regular and bold) usable in `pdf`; call it once per document."""
    for style in _FILES:
        with _lock:
            template = _template(style)
        font = copy.copy(template)  # shares the read-only metrics (widths, cmap, descriptor)
        font.i = len(pdf.fonts) + 1
        # What output() reads or changes per document: the glyphs used, the font file written.
        font.ttfont = _SubsetFont(style)
        # fpdf2's output numbers the descriptor and hangs this document's font file on it: a
        # shared one could take another document's numbers (letters print from several threads).
        font.desc = copy.copy(template.desc)
        font.subset = SubsetMap(font)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font._hbfont = None
        with _lock:
            common = _common_subset(style)
        # As if COMMON_TEXT had been picked in this document (fpdf2's SubsetMap state).
        font.subset._next = common._next
        font.subset._reserved = list(common._reserved)
        font.subset._char_id_per_glyph = dict(common._char_id_per_glyph)
        pdf.fonts[font.fontkey] = font


@cache
def _common_subset(style: str) -> SubsetMap:
    """COMMON_TEXT picked, in order, once per process: every document's subset starts so."""
    font = copy.copy(_template(style))
    font.missing_glyphs = []
    subset = SubsetMap(font)
    for char in COMMON_TEXT:
        subset.pick(ord(char))
    subset.pick.cache_clear()  # fpdf2 caches picks per (map, char) process-wide
    subset.get_glyph.cache_clear()
    return subset


# ----------------------------------------------------------------------------- cached subsets
@dataclass(frozen=True)
class _Subset:
    data: bytes  # the subset font file, as fpdf2 embeds it
    glyph_ids: dict[str, int]  # glyph name -> its ID in that file


_subsets: OrderedDict[tuple[str, tuple[str, ...]], _Subset] = OrderedDict()


def _make_subset(style: str, glyphs: tuple[str, ...], options: Any) -> _Subset:
    """What fpdf2 does for each document, once per glyph set: subset the font, write it (the
    options are fpdf2's own, the same for every document)."""
    key = (style, glyphs)
    with _lock:
        found = _subsets.get(key)
        if found is not None:
            _subsets.move_to_end(key)
            return found
    font = ttLib.TTFont(io.BytesIO(_font_bytes(style)), recalcTimestamp=False, lazy=True)
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(glyphs=list(glyphs))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    made = _Subset(out.getvalue(), {name: font.getGlyphID(name) for name in glyphs})
    font.close()
    with _lock:
        _subsets[key] = made
        while len(_subsets) > SUBSETS_KEPT:
            _subsets.popitem(last=False)
    return made


def subsets_cached() -> int:
    """How many font files this process keeps (for tests)."""
    with _lock:
        return len(_subsets)


class _SubsetFont:
    """Stands in, for one document, for the fontTools font fpdf2 subsets and writes at output;
    the subset comes from the cache."""

    def __init__(self, style: str) -> None:
        self.style = style
        self.subset: _Subset | None = None

    def getGlyphID(self, name: str) -> int:  # fontTools' name
        assert self.subset is not None, "fpdf2 subsets before it asks for glyph IDs"
        return self.subset.glyph_ids[name]

    def save(self, out: BinaryIO) -> None:
        assert self.subset is not None, "fpdf2 subsets before it saves"
        out.write(self.subset.data)

    def __contains__(self, table: str) -> bool:
        return False  # no CFF table: DejaVu has TrueType outlines

    def close(self) -> None:
        pass


class _Subsetter:
    """fontTools' `Subsetter` as fpdf2's output module uses it, serving our documents' fonts
    from the cache and any other font as fontTools would."""

    def __init__(self, options: Any = None) -> None:
        self.options = options
        self.populated: dict[str, Any] = {}

    def populate(self, **kwargs: Any) -> None:
        self.populated = kwargs

    def subset(self, font: Any) -> None:
        if isinstance(font, _SubsetFont) and set(self.populated) == {"glyphs"}:
            font.subset = _make_subset(font.style, tuple(self.populated["glyphs"]), self.options)
            return
        real = ftsubset.Subsetter(self.options)
        real.populate(**self.populated)
        real.subset(font)


fpdf.output.ftsubset = SimpleNamespace(Options=ftsubset.Options, Subsetter=_Subsetter)


# ----------------------------------------------------------------------------- compressed streams
BIG_STREAM = 16 * 1024  # bytes: a letter's page content is smaller, the font streams bigger
STREAMS_KEPT = 32
_compressed: OrderedDict[tuple[bytes, int], bytes] = OrderedDict()


def _compress(data: bytes, /, level: int = -1) -> bytes:
    """`zlib.compress` as fpdf2's streams call it; the big ones are the font file and the
    CID-to-glyph map of a glyph set, the same bytes in every document: compressed once."""
    if len(data) < BIG_STREAM:
        return zlib.compress(data, level)
    key = (bytes(data), level)
    with _lock:
        found = _compressed.get(key)
        if found is not None:
            _compressed.move_to_end(key)
            return found
    made = zlib.compress(data, level)
    with _lock:
        _compressed[key] = made
        while len(_compressed) > STREAMS_KEPT:
            _compressed.popitem(last=False)
    return made


fpdf.syntax.zlib = SimpleNamespace(compress=_compress)  # type: ignore[assignment]
