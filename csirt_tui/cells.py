"""Text as the desk draws it around the user's text, with no character of ambiguous East Asian
width (issue 15).

A character with ``unicodedata.east_asian_width(c) == "A"`` (①, ※, →, …, —, ○, ×, box
drawing, block elements) is one cell for Textual and Rich, and two in a Japanese terminal
font (MS ゴシック in the Windows console, xterm with a CJK font and ``-cjk_width``): drawn
there, it overlaps the next character and every column after it moves. The profiles keep the
seeds' wording (①いつ, ※, →); what the desk draws from them is mapped here, for display only:
① → (1), → → ->, … → ..., — → -. The store always keeps the text as it is.

User text (what an operator typed) is shown as typed: these helpers are for the desk's own
labels, strips, options and the profile texts it lays out.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from rich.cells import cell_len

ELLIPSIS = "..."  # a cut text ends in this (U+2026 … is ambiguous)

_NARROW = {
    "→": "->", "←": "<-", "↑": "^", "↓": "v", "⇒": "=>", "↔": "<->",
    "…": "...", "‥": "..", "—": "-", "―": "-", "–": "-", "‐": "-", "─": "-", "━": "-",
    "※": "＊", "○": "〇", "◯": "〇", "●": "*", "◎": "〇", "×": "x", "÷": "/", "±": "+/-",
    "≤": "<=", "≥": ">=", "≒": "=", "≠": "!=", "∞": "inf", "§": "S.",
    "▼": "v", "▲": "^", "▽": "v", "△": "^", "▶": ">", "◀": "<", "■": "#", "□": "[ ]", "◆": "*", "◇": "*",
    "★": "*", "☆": "*", "‘": "'", "’": "'", "“": '"', "”": '"', "°": "度", "·": "・", "•": "・",
    "\u00a7": "S.", "\ufffd": "?",
}


@lru_cache(maxsize=4096)
def _one(ch: str) -> str:
    if unicodedata.east_asian_width(ch) != "A":
        return ch
    if ch in _NARROW:
        return _NARROW[ch]
    name = unicodedata.name(ch, "")
    if name.startswith(("CIRCLED DIGIT", "CIRCLED NUMBER", "DINGBAT NEGATIVE CIRCLED", "PARENTHESIZED DIGIT",
                        "PARENTHESIZED NUMBER", "DOUBLE CIRCLED DIGIT", "NEGATIVE CIRCLED")):
        try:
            return f"({unicodedata.numeric(ch):g})"
        except (TypeError, ValueError):
            pass
    if name.startswith(("CIRCLED LATIN", "PARENTHESIZED LATIN")):
        return f"({name.rsplit(' ', 1)[-1].lower() if 'SMALL' in name else name.rsplit(' ', 1)[-1]})"
    if name.startswith("ROMAN NUMERAL") or name.startswith("SMALL ROMAN NUMERAL"):
        plain = unicodedata.normalize("NFKC", ch)
        return plain
    if name.startswith("BOX DRAWINGS"):
        if "VERTICAL" in name and "HORIZONTAL" not in name:
            return "|"
        if "HORIZONTAL" in name and "VERTICAL" not in name:
            return "-"
        return "+"
    if name.startswith(("BLOCK", "LOWER", "UPPER", "LEFT", "RIGHT", "FULL BLOCK", "QUADRANT", "LIGHT SHADE",
                        "MEDIUM SHADE", "DARK SHADE")):
        return " "
    plain = unicodedata.normalize("NFKC", ch)
    if plain != ch and all(unicodedata.east_asian_width(c) != "A" for c in plain):
        return plain
    # Greek and Cyrillic letters are ambiguous too: their full-width forms do not exist; shown as
    # they are (a name, not chrome). Anything else: a plain question mark would lose meaning, so
    # the character stays; the chrome test lists it.
    return ch


def narrow(text: str) -> str:
    """``text`` as the desk draws it: every character of ambiguous width replaced by characters
    of one width (① → (1), → → ->, … → ..., — → -, ※ → ＊). Text without one is returned as is."""
    if text.isascii():
        return text
    return "".join(_one(ch) for ch in text)


def narrow_labels(text: str, labels: tuple[str, ...]) -> str:
    """``text`` (an entry's, as written) with each line that starts with one of ``labels`` and ':'
    drawn with that label narrowed: the 受付 entry's lines start with the profile's
    「①事象を発見した日時（いつ）: 」, the desk's words (csirt_tui.views.intake_labels). Anything
    else, a typed ① included, stays as written."""
    if not labels or text.isascii():
        return text
    parts = text.split("\n")
    for i, part in enumerate(parts):
        label = next((lb for lb in labels if part.startswith(lb + ":")), None)
        if label:
            parts[i] = narrow(label) + part[len(label):]
    return "\n".join(parts)


def is_ambiguous(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) == "A"


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells; a cut one ends in "..." (not the ambiguous …)."""
    if cell_len(text) <= width:
        return text
    if width <= len(ELLIPSIS):
        return ELLIPSIS[:max(width, 0)]
    out, used = [], 0
    for ch in text:
        size = cell_len(ch)
        if used + size > width - len(ELLIPSIS):
            break
        out.append(ch)
        used += size
    return "".join(out) + ELLIPSIS


def cut_start(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, its end kept: a cut one starts with "..." (a path:
    the folder's own name is what tells two stores apart)."""
    if cell_len(text) <= width:
        return text
    if width <= len(ELLIPSIS):
        return ELLIPSIS[:max(width, 0)]
    out, used = [], 0
    for ch in reversed(text):
        size = cell_len(ch)
        if used + size > width - len(ELLIPSIS):
            break
        out.append(ch)
        used += size
    return ELLIPSIS + "".join(reversed(out))


def fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells: cut with "..." or padded with spaces."""
    text = cut(text, width)
    return text + " " * (width - cell_len(text))
