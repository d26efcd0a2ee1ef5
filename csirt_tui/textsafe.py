"""User text made safe to show. The store keeps text verbatim; these
functions are only for display (terminal, TUI).

- Control characters (ESC, OSC/CSI introducers, NUL, C1) would be obeyed by
  the terminal: they are replaced by visible symbols.
- Bidirectional overrides/isolates would reorder what the operator sees:
  shown as ``⟨U+202E⟩``.
- Lone surrogates cannot be printed as UTF-8: shown as ␦ (U+2426; not U+FFFD,
  whose width is ambiguous: two cells in a Japanese font, one in Textual).
"""

from __future__ import annotations

import re

_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_SUBSTITUTE = "\u2426"  # ␦: every character in the desk's drawing of user text has an unambiguous width
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "\ud800-\udfff]"
)


def _visible(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)          # ␀ … ␛ …
    if code == 0x7F:
        return "\u2421"                    # ␡
    if 0xD800 <= code <= 0xDFFF:
        return _SUBSTITUTE
    return f"⟨U+{code:04X}⟩"


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with every character a terminal would obey made visible."""
    out = _UNSAFE.sub(lambda m: _visible(m.group()), text or "")
    if not keep_newlines:
        out = out.replace("\n", " ⏎ ").replace("\t", " ")
    return out


_PICTURE = re.compile("[\x00-\x1f\x7f-\x9f" + _BIDI + "\u2028\u2029\ud800-\udfff]")


def control_pictures(text: str, keep: str = "") -> str:
    """``text`` with every character a terminal would obey replaced by one visible
    character, so that it has the same length (for an editor: the cursor and the
    selection stay on the same characters): C0 controls as ␀ … ␟, DEL as ␡, line and
    paragraph separators (U+2028, U+2029: kept as text, not breaks) as ␤, C1 controls,
    bidi controls and lone surrogates as ␦. Characters in ``keep``
    (e.g. a tab the editor lays out itself) are left as they are."""

    def one(m: re.Match) -> str:
        ch = m.group()
        if ch in keep:
            return ch
        code = ord(ch)
        if code < 0x20:
            return chr(0x2400 + code)
        if code == 0x7F:
            return "\u2421"
        return "\u2424" if code in (0x2028, 0x2029) else _SUBSTITUTE

    return _PICTURE.sub(one, text or "")


def one_line(text: str, width: int | None = None) -> str:
    """A single display line, shortened with "..." to ``width`` characters (not with …: its
    width is ambiguous, two cells in a Japanese terminal font; csirt_tui/cells.py)."""
    out = printable(text, keep_newlines=False).replace("\r", "")
    if width is not None and len(out) > width:
        out = out[: max(width - 3, 0)] + "..."[: max(width, 0)]
    return out


_JSON_UNSAFE = re.compile("[\x7f-\x9f" + _BIDI + "\ud800-\udfff]")


def json_for_terminal(obj) -> str:
    """JSON text (readable Japanese) that is safe to print: C1 controls, bidi
    controls and lone surrogates are written as \\uXXXX escapes (json already
    escapes C0 controls such as ESC). Parsing it gives back the exact text."""
    import json

    text = json.dumps(obj, ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda m: "\\u%04x" % ord(m.group()), text)
