"""Make invisible and direction-changing characters visible wherever text is shown.

A right-to-left override can make "pay 10%" display as something else, and zero-width
characters can make two texts look identical while their hashes differ. Clause text is
stored exactly as typed; these functions only change how it is displayed.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import gettext as _
from markupsafe import Markup, escape

# Direction controls (the "Trojan Source" characters) and invisible formatting characters.
_ALWAYS = {
    0x061C: "ARABIC LETTER MARK", 0x200E: "LEFT-TO-RIGHT MARK", 0x200F: "RIGHT-TO-LEFT MARK",
    0x202A: "LEFT-TO-RIGHT EMBEDDING", 0x202B: "RIGHT-TO-LEFT EMBEDDING", 0x202C: "POP DIRECTIONAL FORMATTING",
    0x202D: "LEFT-TO-RIGHT OVERRIDE", 0x202E: "RIGHT-TO-LEFT OVERRIDE", 0x2066: "LEFT-TO-RIGHT ISOLATE",
    0x2067: "RIGHT-TO-LEFT ISOLATE", 0x2068: "FIRST STRONG ISOLATE", 0x2069: "POP DIRECTIONAL ISOLATE",
    0x200B: "ZERO WIDTH SPACE", 0x2060: "WORD JOINER", 0xFEFF: "ZERO WIDTH NO-BREAK SPACE",
    0x00AD: "SOFT HYPHEN", 0x180E: "MONGOLIAN VOWEL SEPARATOR", 0x2061: "FUNCTION APPLICATION",
    0x2062: "INVISIBLE TIMES", 0x2063: "INVISIBLE SEPARATOR", 0x2064: "INVISIBLE PLUS", 0x034F: "COMBINING GRAPHEME JOINER",
}
# Joiners are legitimate inside emoji sequences and some scripts; shown only beside ASCII.
_JOINERS = {0x200C: "ZERO WIDTH NON-JOINER", 0x200D: "ZERO WIDTH JOINER"}
_ABBREVIATIONS = {0x202E: "RLO", 0x202D: "LRO", 0x202A: "LRE", 0x202B: "RLE", 0x202C: "PDF", 0x2066: "LRI",
                  0x2067: "RLI", 0x2068: "FSI", 0x2069: "PDI", 0x200E: "LRM", 0x200F: "RLM", 0x061C: "ALM",
                  0x200B: "ZWSP", 0xFEFF: "BOM", 0x2060: "WJ", 0x00AD: "SHY", 0x200C: "ZWNJ", 0x200D: "ZWJ"}


def _name(point: int) -> str | None:
    if point in _ALWAYS:
        return _ALWAYS[point]
    if 0xE0000 <= point <= 0xE007F:
        return unicodedata.name(chr(point), "TAG CHARACTER")
    return None


_CANDIDATES = re.compile("[" + "".join(chr(p) for p in (*_ALWAYS, *_JOINERS)) + "\U000E0000-\U000E007F]")


def find_invisible(text: str) -> list[tuple[int, str, str]]:
    """List (position, U+XXXX, name) of every hidden or direction-changing character in text."""
    if _CANDIDATES.search(text) is None:  # the common case, at C speed
        return []
    found = []
    for index, char in enumerate(text):
        point = ord(char)
        name = _name(point)
        if name is None and point in _JOINERS:
            before = text[index - 1] if index else " "
            after = text[index + 1] if index + 1 < len(text) else " "
            if before.isascii() or after.isascii():
                name = _JOINERS[point]
        if name is not None:
            found.append((index, f"U+{point:04X}", name))
    return found


def _badge(point: int, name: str) -> str:
    label = _ABBREVIATIONS.get(point, f"U+{point:04X}")
    said = escape(_("[hidden character: %(name)s]", name=name))
    return (f'<span class="hidden-char" title="{name} (U+{point:04X})">'
            f'<span aria-hidden="true">⟦{label}⟧</span><span class="visually-hidden">{said}</span>'
            f"</span>")


def reveal(value: str | Markup) -> Markup:
    """Escape text (unless already markup) and show each hidden character as a visible badge."""
    text = str(value) if isinstance(value, Markup) else str(escape(value))
    positions = find_invisible(text)
    if not positions:
        return Markup(text)
    out, last = [], 0
    for index, code, name in positions:
        out.append(text[last:index])
        out.append(_badge(int(code[2:], 16), name))
        last = index + 1
    out.append(text[last:])
    return Markup("".join(out))
