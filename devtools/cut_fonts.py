"""Cut DejaVu Sans down to what letters print, once, into `letters/fonts/` (committed).

`python -m devtools.cut_fonts [DIR]` reads DejaVuSans.ttf and DejaVuSans-Bold.ttf from DIR
(default: Debian's fonts-dejavu-core, /usr/share/fonts/truetype/dejavu) and keeps Latin (every
extension, Vietnamese's included), combining marks, Greek, Cyrillic, punctuation, currency and
a few symbols, without hinting or layout tables (fpdf2 drops them when it embeds a font). The
cut files are a fifth of the size and read in a fraction of the time: the full font made every
process's first PDF wait a second or more. The licence (`letters/fonts/LICENSE-DejaVu.txt`)
allows modified copies under a name without « Bitstream » or « Vera »; DejaVu's is kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset as ftsubset
from fontTools import ttLib

SOURCE = Path("/usr/share/fonts/truetype/dejavu")
TARGET = Path(__file__).resolve().parents[1] / "letters" / "fonts"
FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
RANGES = (
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


def cut(source: Path, target: Path) -> None:
    font = ttLib.TTFont(source, recalcTimestamp=False)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, hinting=False, name_IDs=["*"])
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "FFTM", "kern", "hdmx"]
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=[code for first, last in RANGES for code in range(first, last + 1)])
    subsetter.subset(font)
    font.save(target)


def main(argv: list[str]) -> None:
    source = Path(argv[0]) if argv else SOURCE
    for name in FILES:
        cut(source / name, TARGET / name)
        print(f"{TARGET / name}: {(TARGET / name).stat().st_size} octets")


if __name__ == "__main__":
    main(sys.argv[1:])
