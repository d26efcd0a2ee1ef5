"""What every csirt-desk PDF shares: the Japanese font, styles, escaping of
user text, the page frame (classification mark, incident id, ``n / N``),
encryption and writing the file.

User text is never markup: :func:`para` escapes ``& < >`` so a typed
``<b>`` or ``<img src=…>`` prints as those characters, and makes control,
bidi and surrogate characters visible (as the terminal does, see
:mod:`csirt_tui.textsafe`). The store keeps the text verbatim.

The font (:func:`find_font`)
----------------------------
Every report is set in IPAexGothic, shipped inside the package
(``assets/fonts/ipaexg.ttf``, in a wheel ``csirt_tui/_assets/fonts/``), its
glyphs subset-embedded: the same PDF comes out on every machine, including a
terminal without any Japanese font. Fonts on the machine are used only when
the user asks for one, with ``--font`` (the ``configured`` argument) or else
``$CSIRT_DESK_FONT``. The value is ``FILE`` or ``FILE#N`` (subfont N of a
.ttc, default 0) and must be a font with TrueType outlines:

- with a folder in it (``/``, ``\\`` or a drive ``:``, or starting with ``~``)
  it is that file: ``C:\\Windows\\Fonts\\msgothic.ttc``, ``~/fonts/x.ttf``,
  ``./x.ttf`` for one in the current folder;
- a file name alone (``msgothic.ttc``, ``YuGothR.ttc#1``, ``ipag.ttf``) is
  looked for, letter case ignored, in these folders in this order (see
  ``FONT_DIRS``), the first found wins: ``%WINDIR%\\Fonts``,
  ``%LOCALAPPDATA%\\Microsoft\\Windows\\Fonts`` (fonts installed without admin
  rights), ``~/Library/Fonts``, ``/Library/Fonts``,
  ``/System/Library/Fonts/Supplemental``, ``/System/Library/Fonts``, then with
  their subfolders ``~/.local/share/fonts``, ``~/.fonts``,
  ``/usr/local/share/fonts``, ``/usr/share/fonts``. The Windows folders come
  from the environment; one whose variable is unset is skipped.

A font asked for that cannot be used (not there, not TrueType, damaged, no
Japanese glyphs) gives the packaged font and a warning that says why. Only a
broken install (packaged file missing or damaged) falls back, with a warning,
to a Japanese TrueType font in a known place (``KNOWN_FONTS``) and, if there is
none, to the non-embedded CID font HeiseiKakuGo-W5, which viewers without a
Japanese font show blank.

The choice is cached per process (ReportLab's font registry is per process):
the first call reads and parses the 6 MB file (about 30 ms and 12 MB of
memory on the build machine), later calls are a dictionary look-up.
"""

from __future__ import annotations

import io
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Paragraph

from .. import fileout
from ..errors import DomainError
from ..resources import assets_dir
from ..textsafe import printable


# ReportLab (checked against 5.1.0) writes each entry of a subset font's ToUnicode
# map as "<%04X>": a character outside the BMP (𩸽 U+29E3D, 𠮷 U+20BB7) becomes five
# hex digits, which a reader takes for another character, so the report draws it
# right but copies and searches as something else. The map's values must be UTF-16BE
# (a surrogate pair for those). This replaces ReportLab's function with one that
# writes them so; tests/test_fonts.py checks the text layer with pdftotext.
def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    def utf16(cp: int) -> str:
        return chr(cp).encode("utf-16-be", "surrogatepass").hex().upper()

    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap", "/CIDSystemInfo",
        "<< /Registry (%s)" % fontname, "/Ordering (%s)" % fontname, "/Supplement 0", ">> def",
        "/CMapName /%s def" % fontname, "/CMapType 2 def", "1 begincodespacerange",
        "<00> <%02X>" % (len(subset) - 1), "endcodespacerange", "%d beginbfchar" % len(subset),
        *("<%02X> <%s>" % (i, utf16(v)) for i, v in enumerate(subset)),
        "endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"])


def _patch_to_unicode() -> None:
    from reportlab.pdfbase import ttfonts

    ttfonts.makeToUnicodeCMap = _to_unicode_cmap


_patch_to_unicode()

PAGE = A4
MARGIN_X = 20 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 20 * mm

FONT_ENV = "CSIRT_DESK_FONT"
CID_FALLBACK = "HeiseiKakuGo-W5"

# IPAexGothic, shipped in the package (assets/fonts/, in a wheel csirt_tui/_assets/fonts/;
# see assets/fonts/README.md): the font of every report unless the user asks for another.
PACKAGED_FONT = str(assets_dir() / "fonts" / "ipaexg.ttf")

# The folders a font asked for by file name alone is looked for in, in this order.
# "%NAME%" is the environment variable NAME (the folder is skipped when it is unset
# or empty), "~" the home folder; True: the folder's subfolders too.
FONT_DIRS: tuple[tuple[str, bool], ...] = (
    ("%WINDIR%/Fonts", False),                              # Windows: installed for all users
    ("%LOCALAPPDATA%/Microsoft/Windows/Fonts", False),      # Windows: installed without admin rights
    ("~/Library/Fonts", False),                             # macOS
    ("/Library/Fonts", False),
    ("/System/Library/Fonts/Supplemental", False),
    ("/System/Library/Fonts", False),
    ("~/.local/share/fonts", True),                         # Linux and other Unix (fontconfig's folders)
    ("~/.fonts", True),
    ("/usr/local/share/fonts", True),
    ("/usr/share/fonts", True),
)

# The fonts taken without being asked for, in this order: the packaged one, then,
# only when that file is missing or damaged (a broken install; with a warning),
# Japanese fonts with TrueType outlines in known places (ReportLab can embed only
# those; CFF-outline OTF such as Noto Sans CJK cannot be embedded).
# (path as in FONT_DIRS, subfont index for a .ttc)
KNOWN_FONTS: tuple[tuple[str, int], ...] = (
    (PACKAGED_FONT, 0),
    ("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf", 0),   # Debian fonts-ipaexfont-gothic
    ("/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf", 0),
    ("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", 0),       # Debian fonts-ipafont-gothic
    ("/usr/share/fonts/truetype/ipafont-gothic/ipag.ttf", 0),
    ("/usr/share/fonts/ipa-gothic/ipag.ttf", 0),                    # Fedora
    ("/usr/share/fonts/ipaex-gothic/ipaexg.ttf", 0),
    ("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf", 0),     # Debian alternatives link
    ("%WINDIR%/Fonts/msgothic.ttc", 0),                             # MS ゴシック
    ("%WINDIR%/Fonts/meiryo.ttc", 0),                               # メイリオ
    ("%WINDIR%/Fonts/YuGothR.ttc", 0),                              # 游ゴシック
    ("%WINDIR%/Fonts/YuGothM.ttc", 0),
    ("%LOCALAPPDATA%/Microsoft/Windows/Fonts/ipaexg.ttf", 0),
    ("/Library/Fonts/ipaexg.ttf", 0),
    ("/Library/Fonts/Arial Unicode.ttf", 0),                        # macOS (TrueType, has kana/kanji)
    ("/System/Library/Fonts/Supplemental/Arial Unicode.ttf", 0),
    ("~/Library/Fonts/ipaexg.ttf", 0),
    ("~/.local/share/fonts/ipaexg.ttf", 0),
    ("~/.fonts/ipaexg.ttf", 0),
)

# Characters a usable font must have (kana, kanji, full-width forms we print).
_PROBE = "報告様式情報セキュリティあ（）・"


class ReportError(DomainError):
    """A report could not be made or written; the message says why in plain words."""


@dataclass(frozen=True)
class FontChoice:
    name: str                 # the ReportLab font name to use
    path: str | None          # the TrueType file, None for the CID fallback
    embedded: bool
    warning: str | None       # shown in the UI and CLI (a font other than the one meant, or not embedded)
    tried: tuple[str, ...] = ()


# per process: ReportLab's font registry is, and a TrueType file is read once
_registered: dict[tuple[str, int], str] = {}
_cache: dict[str | None, FontChoice] = {}

_ENV_VAR = re.compile(r"%([A-Za-z_][A-Za-z0-9_]*)%")


def _expand(path: str) -> str | None:
    """``path`` with ``%NAME%`` replaced from the environment and ``~`` by the
    home folder; None when a variable it names is unset or empty."""
    unset = False

    def value(m: re.Match) -> str:
        nonlocal unset
        v = os.environ.get(m.group(1), "")
        unset = unset or not v
        return v

    out = _ENV_VAR.sub(value, path)
    return None if unset else os.path.normpath(os.path.expanduser(out))


def font_dirs() -> list[tuple[str, bool]]:
    """FONT_DIRS as folders on this machine now: (folder, with subfolders), those
    whose environment variable is unset left out."""
    out: list[tuple[str, bool]] = []
    for entry, deep in FONT_DIRS:
        folder = _expand(entry)
        if folder and all(folder != f for f, _ in out):
            out.append((folder, deep))
    return out


def _is_bare_name(text: str) -> bool:
    return not text.startswith("~") and not any(c in text for c in "/\\:")


def _files(folder: str, deep: bool) -> Iterable[tuple[str, list[str]]]:
    if deep:
        for root, subdirs, files in os.walk(folder):
            subdirs.sort()
            yield root, sorted(files)
        return
    try:
        yield folder, sorted(os.listdir(folder))
    except OSError:
        return


def find_system_font(name: str) -> str | None:
    """The first file called ``name`` (letter case ignored) in :func:`font_dirs`,
    in their order; None when there is none."""
    want = name.casefold()
    for folder, deep in font_dirs():
        if not os.path.isdir(folder):
            continue
        exact = os.path.join(folder, name)
        if os.path.isfile(exact):
            return exact
        for root, files in _files(folder, deep):
            for file in files:
                if file.casefold() == want and os.path.isfile(os.path.join(root, file)):
                    return os.path.join(root, file)
    return None


def _register_ttf(path: str, index: int) -> str:
    """Register a TrueType font (subset-embedded by ReportLab); returns its name.
    Raises ReportError when the file is unusable."""
    key = (path, index)
    if key in _registered:
        return _registered[key]
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    name = f"CsirtJP{len(_registered)}"
    try:
        font = TTFont(name, path, subfontIndex=index)
    # e.g. "postscript outlines are not supported"; a truncated or damaged file raises struct.error
    except (TTFError, struct.error, ValueError, IndexError, KeyError) as err:
        raise ReportError(f"{path}: このフォントは埋め込めません（{err}）") from None
    except OSError as err:
        raise ReportError(f"{path}: フォントを読めません（{err.strerror or err}）") from None
    missing = [ch for ch in _PROBE if ord(ch) not in font.face.charToGlyph]
    if missing:
        raise ReportError(f"{path}: 日本語の字形がありません（{''.join(missing)}）")
    pdfmetrics.registerFont(font)
    _registered[key] = name
    return name


def _cid_fallback(tried: list[str]) -> FontChoice:
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CID_FALLBACK not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    warning = (f"同梱の日本語フォント（{PACKAGED_FONT}）がないか壊れていて、ほかに TrueType の日本語フォントも"
               "見つからないため、埋め込まないフォントで作成しました。閲覧ソフトによっては文字が表示されません。"
               f"csirt-desk を入れ直すか、環境変数 {FONT_ENV} に TrueType の日本語フォントを指定してください。")
    return FontChoice(CID_FALLBACK, None, False, warning, tuple(tried))


def _parse(wanted: str) -> tuple[str, int]:
    """``PATH#INDEX`` (a subfont of a .ttc) → (PATH, INDEX); otherwise (wanted, 0)."""
    path, sep, index = wanted.rpartition("#")
    if sep and path and index.isdigit():
        return path, int(index)
    return wanted, 0


def _asked(wanted: str, tried: list[str]) -> FontChoice | None:
    """The font the user asked for, or None (and why in ``tried``)."""
    text, index = _parse(wanted)
    if _is_bare_name(text):
        path = find_system_font(text)
        if path is None:
            folders = "、".join(f for f, _ in font_dirs())
            tried.append(f"{text}: フォントのフォルダにありません（{folders}）")
            return None
    else:
        path = os.path.abspath(os.path.expanduser(text))
        if not os.path.isfile(path):
            tried.append(f"{path}: ファイルがありません")
            return None
    try:
        return FontChoice(_register_ttf(path, index), path, True, None)
    except ReportError as err:
        tried.append(str(err))
        return None


def find_font(configured: str | os.PathLike | None = None) -> FontChoice:
    """The font for reports (the rule is in the module docstring): the font
    asked for by ``configured`` or ``$CSIRT_DESK_FONT``, else the packaged
    IPAexGothic; the known system fonts and then the non-embedded CID font only
    when the packaged file is missing or damaged. A choice other than the one
    meant carries a warning that says why. Cached per process."""
    wanted = str(configured) if configured else os.environ.get(FONT_ENV) or None
    if wanted in _cache:
        return _cache[wanted]
    tried: list[str] = []
    choice = _asked(wanted, tried) if wanted else None
    if choice is None:
        packaged = _expand(PACKAGED_FONT)
        for entry, index in KNOWN_FONTS:
            path = _expand(entry)
            if path is None or not os.path.isfile(path):
                if path is not None and path == packaged:
                    tried.append(f"{path}: 同梱のフォントがありません")
                continue
            try:
                name = _register_ttf(path, index)
            except ReportError as err:
                tried.append(str(err))
                continue
            warning = None
            if wanted:
                warning = f"指定のフォントは使えないため {path} を使いました（{tried[0]}）"
            elif path != packaged:
                warning = f"同梱のフォントを使えないため {path} を使いました（{tried[0] if tried else PACKAGED_FONT}）"
            choice = FontChoice(name, path, True, warning, tuple(tried))
            break
    if choice is None:
        choice = _cid_fallback(tried)
    _cache[wanted] = choice
    return choice


# ---------------------------------------------------------------------------
# Text

_NEWLINES = re.compile(r"\r\n|\r|\n")

# textsafe.printable shows controls as U+2400 control pictures (␛ ␀ …) and bidi
# marks as ⟨U+202E⟩; Japanese fonts (IPAex, MS ゴシック) have none of those
# glyphs, so a PDF would show identical .notdef boxes. In a PDF they are
# written with characters every JIS font has.
_CONTROL_NAMES = ("NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN ETB "
                  "CAN EM SUB ESC FS GS RS US").split()
_PDF_VISIBLE = {0x2400 + i: f"〔{name}〕" for i, name in enumerate(_CONTROL_NAMES)}
_PDF_VISIBLE.update({0x2421: "〔DEL〕", 0x27E8: "〈", 0x27E9: "〉", 0xFFFD: "〓"})


# what ReportLab's line breaking takes for blank (a no-break space it draws)
_RL_SPACE = " \t\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"


def _drawable(text: str, font_name: str | None) -> str:
    """Characters the (TrueType) font has no glyph for, as 〈U+XXXX〉 (emoji, rare
    scripts): a .notdef box would not say what was typed."""
    if not font_name:
        return text
    face = getattr(pdfmetrics.getFont(font_name), "face", None)
    cmap = getattr(face, "charToGlyph", None)
    if not cmap:
        return text  # the CID font: no cheap way to ask
    if all(ord(ch) in cmap for ch in set(text) - {"\n", "\r", "\t"}):
        return text
    return "".join(ch if ch in "\n\r\t" or ord(ch) in cmap else f"〈U+{ord(ch):04X}〉" for ch in text)


def escape(text: Any, font_name: str | None = None) -> str:
    """User text as ReportLab paragraph text that says exactly what was typed:
    markup characters escaped, control/bidi/surrogate characters made visible,
    tabs as spaces, line breaks as ``<br/>``."""
    s = printable("" if text is None else str(text), keep_newlines=True).translate(_PDF_VISIBLE)
    s = _drawable(s, font_name)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("\t", "    ")
    # keep runs of spaces visible (ReportLab collapses them)
    s = s.replace("  ", "\u00a0 ")
    lines = _NEWLINES.split(s)
    if len(lines) == 1:
        return s
    # A blank line holds a no-break space: ReportLab cannot draw the part of a split
    # paragraph made only of blank lines (TypeError: 'FragLine' object is not
    # subscriptable), e.g. a text that starts with empty lines, at a page break.
    return "<br/>".join(line if line.strip(_RL_SPACE) else "\u00a0" + line for line in lines)


@dataclass
class Styles:
    font: FontChoice
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_head: ParagraphStyle
    title: ParagraphStyle
    heading: ParagraphStyle
    item: ParagraphStyle
    right: ParagraphStyle
    center: ParagraphStyle
    blank: ParagraphStyle


def make_styles(font: FontChoice) -> Styles:
    f = font.name
    base = dict(fontName=f, wordWrap="CJK", allowWidows=1, allowOrphans=1)
    body = ParagraphStyle("body", fontSize=10.5, leading=16, **base)
    return Styles(
        font=font,
        body=body,
        small=ParagraphStyle("small", fontSize=8, leading=10, **base),
        cell=ParagraphStyle("cell", fontSize=8, leading=10.5, **base),
        cell_head=ParagraphStyle("cell_head", fontSize=8, leading=10.5, textColor=colors.white, **base),
        title=ParagraphStyle("title", fontSize=13, leading=20, alignment=TA_CENTER, spaceBefore=6,
                             spaceAfter=10, **base),
        heading=ParagraphStyle("heading", fontSize=10.5, leading=16, spaceBefore=8, spaceAfter=2, **base),
        item=ParagraphStyle("item", parent=body, leftIndent=14, firstLineIndent=0),
        right=ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
        center=ParagraphStyle("center", parent=body, alignment=TA_CENTER),
        blank=ParagraphStyle("blank", parent=body, leftIndent=14, textColor=colors.HexColor("#555555")),
    )


def para(text: Any, style: ParagraphStyle) -> Paragraph:
    """A paragraph of user (or profile) text, never interpreted as markup."""
    return Paragraph(escape(text, style.fontName), style)


def fixed(markup: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of csirt-desk's own markup (no user text in ``markup``)."""
    return Paragraph(markup, style)


# ---------------------------------------------------------------------------
# Page frame: classification mark and incident id on every page, n / N


# ReportLab's 14 standard PDF fonts (never embedded)
_STANDARD_FONTS = frozenset(pdfmetrics.standardFonts)


def numbered_canvas(header_left: str, mark: str, footer_left: str, font_name: str) -> type:
    """A canvas class that draws the frame on each page once the page count is known."""

    class _Canvas(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            # not ReportLab's Helvetica: it would be a font in the PDF that is not embedded
            kwargs["initialFontName"] = kwargs.get("initialFontName") or font_name
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def setFont(self, psfontname, size, leading=None):  # noqa: N802 - ReportLab's name
            # A Table sets its cells' default font (Helvetica) for every cell, even one
            # that holds a Paragraph; that alone puts a font in the PDF that is not
            # embedded. The standard fonts are never embedded: the report's font instead.
            if psfontname in _STANDARD_FONTS:
                psfontname = font_name
            super().setFont(psfontname, size, leading)

        def showPage(self):  # noqa: N802 - ReportLab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._frame(number, total)
                super().showPage()
            super().save()

        def _frame(self, number: int, total: int) -> None:
            width, height = PAGE
            self.saveState()
            self.setFont(font_name, 8)
            self.setFillColor(colors.black)
            top = height - 12 * mm
            self.drawString(MARGIN_X, top, printable(header_left, keep_newlines=False))
            if mark:
                self.setFont(font_name, 10)
                text = printable(mark, keep_newlines=False)
                w = pdfmetrics.stringWidth(text, font_name, 10)
                x = width - MARGIN_X - w - 4
                self.rect(x - 4, top - 3, w + 8, 14, stroke=1, fill=0)
                self.drawString(x, top, text)
            self.setFont(font_name, 8)
            bottom = 10 * mm
            left = printable(footer_left, keep_newlines=False)
            self.drawString(MARGIN_X, bottom, left)
            # the page number centred, or after a footer long enough to reach the centre (a drill's
            # 報告様式1: 【訓練】, the number, the record's seq and hash ran under 「1 / 4」)
            page = f"{number} / {total}"
            left_end = MARGIN_X + pdfmetrics.stringWidth(left, font_name, 8) + 3 * mm
            centred = width / 2 - pdfmetrics.stringWidth(page, font_name, 8) / 2
            self.drawString(max(centred, left_end), bottom, page)
            if mark:
                self.drawRightString(width - MARGIN_X, bottom, printable(mark, keep_newlines=False))
            self.restoreState()

    return _Canvas


def build_pdf(story: list, *, title: str, header_left: str, mark: str, footer_left: str,
              font: FontChoice, on_progress: Callable[[str], Any] | None = None) -> bytes:
    """Lay out ``story`` on A4 with the frame; returns the PDF bytes (unencrypted,
    in memory only)."""
    from reportlab.platypus import SimpleDocTemplate

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=PAGE, leftMargin=MARGIN_X, rightMargin=MARGIN_X,
                            topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM, title=title,
                            author="csirt-desk", creator="csirt-desk", subject=title,
                            invariant=1)
    if on_progress:
        doc.setProgressCallBack(lambda kind, value: on_progress(kind) if kind == "PAGE" else None)
    try:
        doc.build(story, canvasmaker=numbered_canvas(header_left, mark, footer_left, font.name))
    except Exception as err:  # ReportLab raises plain exceptions for layout problems
        raise ReportError(f"PDF を組み立てられませんでした: {type(err).__name__}: {err}") from err
    return buf.getvalue()


def encrypt(pdf: bytes, password: str) -> bytes:
    """The same PDF, encrypted with AES-256 (opening it needs ``password``)."""
    if not password:
        raise ReportError("パスワードが空です")
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=password, owner_password=None, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def check_target(path: str | os.PathLike, *, store_root: str | os.PathLike | None = None,
                 force: bool = False) -> Path:
    """Refuse a target the PDF cannot or must not be written to, before the work is
    done (see fileout.check_target: not inside the store but its reports/, not a
    device or link, not over an existing file unless ``force``)."""
    return fileout.check_target(path, "pdf", ReportError, store_root=store_root, force=force)


def write_pdf(path: str | os.PathLike, payload: bytes, *, store_root: str | os.PathLike | None = None,
              force: bool = False) -> Path:
    """Write the PDF atomically (old file or new, never half), mode 0600."""
    return fileout.write_private(path, payload, "pdf", ReportError, store_root=store_root, force=force)


def table_style_commands(header_rows: int = 1) -> list[tuple]:
    return [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#444444")),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#333333")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        # the text column: room for the one ー 、 。 that ReportLab's CJK wrap hangs past the width
        ("RIGHTPADDING", (-1, header_rows), (-1, -1), 11),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]


# A table cell of typed (or pasted) text holds at most this much; the rest is said to be in the
# record (a cell of 800,000 characters kept ReportLab laying out its table for more than ten
# minutes). The store keeps every character.
CELL_CHARS = 1_500
CELL_LINES = 40


def cut_for_cell(text: str, where: str, chars: int = CELL_CHARS, lines: int = CELL_LINES) -> str:
    """``text`` up to ``chars`` characters and ``lines`` lines; when cut, a line says how much was
    left out and ``where`` the whole is (a command)."""
    kept = text[:chars]
    n = 0
    for m in re.finditer(r"\r\n|\r|\n", kept):
        n += 1
        if n >= lines:
            kept = kept[: m.start()]
            break
    left_out = len(text) - len(kept)
    if not left_out:
        return text
    return f"{kept}\n……以下 {left_out:,} 文字は省略しました。全文は記録にあります（{where}）。"


def chunks(text: str, size: int) -> Iterable[str]:
    for start in range(0, len(text), size):
        yield text[start:start + size]
