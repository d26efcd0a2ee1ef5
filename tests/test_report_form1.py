"""報告様式1 as PDF (csirt_tui.report): what is printed, the page frame, the
embedded font, encryption, hostile text, writing the file, the font fallback.

Text is read back with pypdf and, when installed, with poppler's pdftotext
(two independent readers). Text wraps, so comparisons remove all whitespace.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError

from conftest import FIXED_NOW, Clock, chmod_denies, not_root, posix_modes, sample_intake
from csirt_tui.errors import DomainError
from csirt_tui.report import pdfkit
from csirt_tui.report.content import BLANK_NOTE, form1_content, record_time, set_report_text
from csirt_tui.report.export import export_form1
from csirt_tui.report.form1 import COLUMNS, ROW_CHARS, build_form1
from csirt_tui.report.pdfkit import FONT_ENV, ReportError, find_font
from csirt_tui.response import close_incident, set_step, update_notification
from csirt_tui.store import Store
from csirt_tui.textsafe import printable
from csirt_tui.timeparse import to_iso, to_wareki
from csirt_tui.triage import Triage, TriageContext, record_triage

OP = "試験 花子"
PASSWORD = "Kx9#パス 秘密-2026"
WAIVER = "訓練用の記録のため暗号化しない（CSIRT責任者了承）"
PLACE = "本庁舎3階 税務課 窓口端末（TM-0301）"
WHAT = "画面に身代金を要求するメッセージが表示された"
CAUSE = "不審メールの添付ファイル（請求書.zip）を開いたため。\n添付のマクロが実行された可能性がある"
# Markup-looking text the handler typed: printed as these characters, never obeyed.
MEASURES = "<b>全職員研修</b> & <i>マクロ無効化</i> &lt;GPO&gt;"
HOSTILE_PARTS = ['<b>太字</b>', '<para>段落</para>', '&amp;', '</font>', '<img src="/etc/passwd"/>',
                 '[bold]赤[/bold]']
HOSTILE = (" ".join(HOSTILE_PARTS) + " ESC\x1b[31m赤字 NUL\x00終 RTL\u202e逆順 BEL\x07鳴 DEL\x7f消")
LONG = "Z" * 10_000       # one line, no spaces; "Z" appears nowhere else on the form


# ---------------------------------------------------------------------------
# Reading PDFs back


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pypdf_pages(source, password: str | None = None) -> list[str]:
    reader = PdfReader(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    if password is not None:
        reader.decrypt(password)
    return [page.extract_text() for page in reader.pages]


def pdftotext_pages(path: Path, password: str | None = None) -> list[str] | None:
    exe = shutil.which("pdftotext")
    if not exe:
        return None
    cmd = [exe, "-enc", "UTF-8"] + (["-upw", password] if password else []) + [str(path), "-"]
    res = subprocess.run(cmd, capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    pages = res.stdout.decode("utf-8").split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def pdftotext_words(path: Path) -> list[tuple[float, float, float, float, str]] | None:
    """(xMin, yMin, xMax, yMax, text) of every word, from pdftotext -bbox (None without it)."""
    exe = shutil.which("pdftotext")
    if not exe:
        return None
    res = subprocess.run([exe, "-bbox", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                         encoding="utf-8", timeout=60)
    assert res.returncode == 0, res.stderr
    found = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
                       res.stdout)
    assert found
    return [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in found]


def readers(path: Path, password: str | None = None) -> dict[str, list[str]]:
    """{reader name: page texts} for every reader available."""
    out = {"pypdf": pypdf_pages(path, password)}
    poppler = pdftotext_pages(path, password)
    if poppler is not None:
        out["pdftotext"] = poppler
    return out


def body_text(pages: list[str], incident_id: str, variant: str = "発生報告", mark: str = "機密性2") -> str:
    """The whole document without the page frame and the repeated table header,
    whitespace removed (so text cut by a page break reads on)."""
    total = len(pages)
    out = []
    for number, page in enumerate(pages, start=1):
        s = squash(page)
        for frame in (f"報告様式1（{variant}）インシデント{incident_id}{mark}",
                      f"{mark}報告様式1（{variant}）インシデント{incident_id}",
                      f"報告様式1（{variant}）インシデント{incident_id}",
                      f"インシデント{incident_id}{number}/{total}{mark}"):
            s = s.replace(frame, "")
        out.append(s.replace("日時担当者種類内容", ""))
    return "".join(out)


def require_embedded_font() -> pdfkit.FontChoice:
    font = find_font()
    if not font.embedded:
        if os.environ.get("CSIRT_DESK_REQUIRE_FONT") == "1":
            pytest.fail(f"no embeddable Japanese TrueType font (tried: {font.tried}); "
                        "install fonts-ipaexfont-gothic")
        pytest.skip("no embeddable Japanese TrueType font on this machine")
    return font


def count_headers(page: str) -> int:
    return squash(page).count("日時担当者種類内容")


# ---------------------------------------------------------------------------
# A full record, exported once for the module


def _full_incident(store: Store, clock: Clock) -> str:
    inc = store.create_incident(sample_intake(place=PLACE, what=WHAT), operator=OP)
    iid = inc.id
    clock.advance(minutes=4)
    record_triage(store, iid, Triage(fact_check="done", type_id="cyber", ticked=["L2.5"],
                                     context=TriageContext(crime=True)), operator=OP)
    clock.advance(minutes=3)
    set_step(store, iid, "policy", "done", operator=OP, note="端末をネットワークから切り離す方針とした")
    clock.advance(minutes=3)
    set_step(store, iid, "evidence", "done", operator=OP, note="イベントログを USB-1 に保全")
    update_notification(store, iid, "csirt_manager", "done", operator=OP, means="内線電話",
                        person="情報 太郎", said="状況と初動を報告")
    update_notification(store, iid, "soumusho", "done", operator=OP, means="電話", person="担当 一郎",
                        said="第一報を伝えた")
    clock.advance(minutes=5)
    store.append(iid, "note", "ベンダーに連絡した\n折り返し待ち", operator=OP, occurred_at=to_iso(clock.now - timedelta(minutes=30)))
    store.append(iid, "note", HOSTILE, operator=OP)
    store.append(iid, "note", LONG, operator=OP)
    set_report_text(store, iid, "cause", CAUSE, operator=OP)
    set_report_text(store, iid, "measures", MEASURES, operator=OP)
    clock.advance(minutes=1)
    return iid


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    root = tmp_path_factory.mktemp("form1")
    clock = Clock()
    store = Store.open(root / "store", clock=clock)
    iid = _full_incident(store, clock)
    before = store.incident(iid)
    out = root / "out"
    out.mkdir()
    plain = export_form1(store, iid, out / "plain.pdf", operator=OP, waive_reason=WAIVER)
    enc = export_form1(store, iid, out / "enc.pdf", operator=OP, password=PASSWORD)
    return SimpleNamespace(store=store, id=iid, inc=before, plain=plain, enc=enc, root=root,
                           texts=readers(plain.path))


# ---------------------------------------------------------------------------
# What is printed


def test_letter_title_addressee_date_and_sections(full):
    form = full.store.profile.report_form
    for name, pages in full.texts.items():
        doc = squash("".join(pages))
        assert squash(form["title"]) in doc, name
        assert squash(form["addressee"]) in doc, name
        assert squash(form["sender"]) in doc, name
        assert to_wareki(FIXED_NOW) == "令和8年11月22日"
        assert "令和8年11月22日" in doc, name
        for sec in form["sections"]:
            assert squash(f"{sec['no']}{sec['label']}") in doc, (name, sec["label"])
        for item in form["sections"][0]["items"]:
            assert squash(item) in doc, (name, item)
        # the incident's own strings and the opening sentence with the type
        assert squash(PLACE) in doc and squash(WHAT) in doc, name
        assert squash("業務において外部からのサイバー攻撃の事案が発生したため") in doc, name


def test_every_timeline_entry_is_in_the_record_table(full):
    entries = full.inc.entries
    assert len(entries) >= 20
    for name, pages in full.texts.items():
        body = body_text(pages, full.id)
        assert squash(f"時系列の対応記録（全{len(entries)}件、記録の順）") in body, name
        for e in entries:
            if e.text == LONG:
                continue  # split over rows: test_long_line_wraps_and_nothing_is_lost
            want = squash(printable(e.text))
            if "\x1b" in e.text:  # control pictures: see test_control_characters_are_drawn_visibly
                continue
            assert want in body, (name, e.seq, e.kind)
            assert squash(f"#{e.seq}") in body, (name, e.seq)
        assert "2026-11-2214:35" in body  # the compact time of the record table
        late = next(e for e in entries if e.occurred_at and e.occurred_at != e.at)
        # an event earlier than its recording shows both times
        assert squash(record_time(late.occurred_at)) in body, name
        assert squash(f"（記録 {record_time(late.at)}）") in body, name


def test_sections_the_record_lacks_print_the_blank_note(full):
    sections = {s["fill"]: s for s in full.store.profile.report_form["sections"]}
    note = squash(BLANK_NOTE)
    assert "記録にありません" in BLANK_NOTE
    for name, pages in full.texts.items():
        body = body_text(pages, full.id)
        service = sections["service"]
        assert squash(f"{service['no']}{service['label']}") + note in body, name
        assert squash("(3)復旧の見込み") + note in body, name
        assert squash("(4)復旧に要する額") + note in body, name


def test_handler_text_is_printed_in_its_section(full):
    sections = {s["fill"]: s for s in full.store.profile.report_form["sections"]}
    for name, pages in full.texts.items():
        body = body_text(pages, full.id)
        cause = sections["cause"]
        assert squash(f"{cause['no']}{cause['label']}{CAUSE}") in body, name
        measures = sections["measures"]
        assert squash(f"{measures['no']}{measures['label']}") + squash(MEASURES) in body, name
        # the record fills what it knows: steps, notifications, level
        assert squash("対応方針の検討: 完了") in body, name
        assert squash("端末をネットワークから切り離す方針とした") in body, name
        assert squash("総務省: 連絡済み") in body and squash("相手 担当 一郎") in body, name
        assert squash("影響度: レベル2") in body, name


def test_page_number_mark_and_incident_id_on_every_page(full):
    reader = PdfReader(str(full.plain.path))
    total = len(reader.pages)
    assert total == full.plain.pages >= 3
    for name, pages in full.texts.items():
        assert len(pages) == total, name
        for number, page in enumerate(pages, start=1):
            s = squash(page)
            assert f"{number}/{total}" in s, (name, number)
            assert s.count("機密性2") >= 2, (name, number)   # header box and footer
            assert s.count(full.id) >= 2, (name, number)      # header and footer


def test_japanese_font_is_embedded_as_a_subset(full):
    font = require_embedded_font()
    assert full.plain.font.embedded
    reader = PdfReader(str(full.plain.path))
    for number, page in enumerate(reader.pages, start=1):
        fonts = page["/Resources"]["/Font"]
        embedded = []
        for ref in fonts.values():
            f = ref.get_object()
            desc = f.get("/FontDescriptor")
            if desc is None:
                continue  # ReportLab's unused initial Helvetica
            desc = desc.get_object()
            assert "/FontFile2" in desc, (number, f["/BaseFont"])
            embedded.append(str(f["/BaseFont"]))
        assert embedded, number
        assert all(re.fullmatch(r"/[A-Z]{6}\+.+", name) for name in embedded), embedded
    if shutil.which("pdffonts"):
        res = subprocess.run(["pdffonts", str(full.plain.path)], capture_output=True, text=True,
                             encoding="utf-8", errors="replace", timeout=60)
        rows = [line.split() for line in res.stdout.splitlines()[2:]]
        truetype = [r for r in rows if "TrueType" in r]
        assert truetype and all(r[-5:-3] == ["yes", "yes"] for r in truetype), res.stdout  # emb, sub
    assert Path(font.path).is_file()


def test_hostile_text_is_printed_as_typed(full):
    for name, pages in full.texts.items():
        body = body_text(pages, full.id)
        for part in HOSTILE_PARTS:
            assert squash(part) in body, (name, part)
        assert "[31m赤字" in body and "U+202E" in body, name
        # the controls themselves are never in the text: not obeyed by a viewer or a terminal
        for ch in ("\x1b", "\u202e", "\x07", "\x7f"):
            assert ch not in "".join(pages), (name, repr(ch))


def test_control_characters_are_drawn_visibly(full):
    font = require_embedded_font()
    from reportlab.pdfbase import pdfmetrics

    face = pdfmetrics.getFont(font.name).face
    for name, pages in full.texts.items():
        text = "".join(pages)
        assert "\x00" not in text, name   # a .notdef glyph reads back as NUL
        body = body_text(pages, full.id)
        for before, after in (("ESC", "[31m"), ("NUL", "終"), ("RTL", "逆順"), ("BEL", "鳴"), ("DEL", "消")):
            m = re.search(re.escape(before) + "(.+?)" + re.escape(after), body)
            assert m and m.group(1), (name, before)
            assert all(ord(ch) in face.charToGlyph for ch in m.group(1)), (name, before, m.group(1))


def test_long_line_wraps_and_nothing_is_lost(full):
    for name, pages in full.texts.items():
        assert "".join(pages).count("Z") == len(LONG), name
        body = body_text(pages, full.id)
        # split into rows of ROW_CHARS, each marked as the continuation of the entry
        seq = next(e.seq for e in full.inc.entries if e.text == LONG)
        assert body.count(f"（#{seq}の続き）") >= len(LONG) // ROW_CHARS, name
    words = pdftotext_words(full.plain.path)
    if words is not None:  # nothing runs off the page (a hanging 、 or ー may enter the margin)
        assert max(w[2] for w in words) <= pdfkit.PAGE[0] - pdfkit.MARGIN_X + 11
        assert min(w[0] for w in words) >= pdfkit.MARGIN_X - 0.5


def test_record_cells_keep_their_text_inside_the_table(store, tmp_path):
    """ReportLab lets a character that may not start a line (ー 、 。) hang past the
    wrap width; in a table cell it must still stay left of the table's border."""
    iid = store.create_incident(sample_intake(), operator=OP).id
    for i in range(12):
        store.append(iid, "note", "ア" * i + "ー" * 300, operator=OP)
        store.append(iid, "note", "あ" * i + "、" * 300, operator=OP)
    store.append(iid, "note", "インシデントハンドラー" * 40, operator=OP)
    result = export_form1(store, iid, tmp_path / "hang.pdf", operator=OP, waive_reason=WAIVER)
    words = pdftotext_words(result.path)
    if words is None:
        pytest.skip("pdftotext is not installed")
    column = pdfkit.MARGIN_X + sum(w for _, w in COLUMNS) - 0.5
    cells = [w for w in words if w[0] >= column and "機密性" not in w[4]]
    assert len(cells) > 100
    right = pdfkit.PAGE[0] - pdfkit.MARGIN_X
    assert max(w[2] for w in cells) <= right + 0.5, max(cells, key=lambda w: w[2])


def test_record_table_header_repeats_on_every_record_page(full):
    for name, pages in full.texts.items():
        first = next(i for i, p in enumerate(pages) if count_headers(p))
        assert first >= 1  # the letter comes first
        assert all(count_headers(p) >= 1 for p in pages[first:]), (name, [count_headers(p) for p in pages])


def test_a_row_split_after_its_first_line_does_not_break_the_export():
    from reportlab.platypus import Spacer

    from csirt_tui.report import form1
    from csirt_tui.report.content import RecordRow

    font = require_embedded_font()
    st = pdfkit.make_styles(font)
    text = ("報告様式1（発生報告）を出力: /tmp/csirt-bench-report-21ilik7b/2026-0001.pdf\n"
            "2 ページ、機密性2、暗号化あり（AES-256）\n記録 #10 までを収録")
    rows = [RecordRow(seq=1, when="2026-11-22 14:35", operator=OP, kind="#1 報告", text=text)]
    frame = pdfkit.PAGE[1] - pdfkit.MARGIN_TOP - pdfkit.MARGIN_BOTTOM
    for room in range(12, 92, 2):  # the space left on the page for the table, in points
        story = [Spacer(1, frame - room), form1._record_table(rows, st, "2026-0001")]
        pdf = pdfkit.build_pdf(story, title="t", header_left="HEADERX", mark="", footer_left="FOOTERX", font=font)
        pages = [re.sub(r"HEADERX|FOOTERX|\d+/\d+$", "", squash(p)) for p in pypdf_pages(pdf)]
        assert squash(text) in "".join(pages).replace("日時担当者種類内容", ""), room


# ---------------------------------------------------------------------------
# Size: the page count follows the record


def _bulk_record(store: Store, n: int) -> str:
    start = FIXED_NOW - timedelta(days=3)
    texts = ["短いメモ", "サーバ室で機器の状態を確認した。ベンダーに連絡済み。" * 3,
             "一行目\n二行目\n三行目", "ログを確認した"]
    specs = [{"kind": "note", "text": f"経過{i}番: {texts[i % len(texts)]}", "operator": OP,
              "at": to_iso(start + timedelta(minutes=i))} for i in range(n - 1)]
    (iid,) = store.bulk_create([(sample_intake(received_at=to_iso(start)), specs)])
    return iid


@pytest.fixture(scope="module")
def sizes(tmp_path_factory):
    """Records of 10 and 500 entries: {n: (incident id, page texts)}."""
    store = Store.open(tmp_path_factory.mktemp("sizes") / "s", clock=Clock())
    font = find_font()
    out = {}
    for n in (10, 500):
        iid = _bulk_record(store, n)
        pdf = build_form1(form1_content(store.profile, store.incident(iid), FIXED_NOW), font)
        out[n] = (iid, pypdf_pages(pdf))
    return out


def test_page_count_grows_with_the_record(sizes):
    (_, small), (big, pages) = sizes[10], sizes[500]
    assert len(small) >= 2 and len(pages) >= len(small) + 8
    first = next(i for i, p in enumerate(pages) if count_headers(p))
    assert all(count_headers(p) >= 1 for p in pages[first:])
    body = body_text(pages, big)
    for i in (0, 1, 250, 497, 498):
        assert squash(f"経過{i}番:") in body, i
    assert squash("時系列の対応記録（全500件、記録の順）") in body


@pytest.mark.parametrize("record", ["tall entries", "long entries"])
def test_record_table_header_once_per_page(full, tmp_path, record):
    if record == "tall entries":  # 60 entries of 11 lines
        store = Store.open(tmp_path / "s", clock=Clock())
        start = FIXED_NOW - timedelta(days=1)
        specs = [{"kind": "note", "text": f"経過{i}番\n" + "\n".join(f"{j}行目" for j in range(10)),
                  "operator": OP, "at": to_iso(start + timedelta(minutes=i))} for i in range(60)]
        (iid,) = store.bulk_create([(sample_intake(received_at=to_iso(start)), specs)])
        pdf = build_form1(form1_content(store.profile, store.incident(iid), FIXED_NOW), find_font())
        by_reader = {"pypdf": pypdf_pages(pdf)}
    else:
        by_reader = full.texts
    for name, pages in by_reader.items():
        first = next(i for i, p in enumerate(pages) if count_headers(p))
        assert [count_headers(p) for p in pages[first:]] == [1] * (len(pages) - first), name


# ---------------------------------------------------------------------------
# Encryption


def test_encrypted_pdf_needs_the_password(full):
    from pypdf import PasswordType

    path = full.enc.path
    assert full.enc.encrypted
    reader = PdfReader(str(path))
    assert reader.is_encrypted
    with pytest.raises(FileNotDecryptedError):
        reader.pages[0].extract_text()
    assert PdfReader(str(path)).decrypt("wrong password") == PasswordType.NOT_DECRYPTED
    assert PdfReader(str(path)).decrypt(PASSWORD[:-1]) == PasswordType.NOT_DECRYPTED
    reader = PdfReader(str(path))
    assert reader.decrypt(PASSWORD) != PasswordType.NOT_DECRYPTED
    text = squash("".join(p.extract_text() for p in reader.pages))
    assert squash(full.store.profile.report_form["title"]) in text and squash(WHAT) in text
    exe = shutil.which("pdftotext")
    if exe:
        res = subprocess.run([exe, str(path), "-"], capture_output=True, timeout=60)
        assert res.returncode != 0 and squash(WHAT).encode() not in res.stdout
        assert squash(WHAT) in squash("".join(pdftotext_pages(path, PASSWORD)))


def test_password_is_nowhere_in_the_store_or_on_the_record(full):
    needles = {PASSWORD.encode(), json.dumps(PASSWORD)[1:-1].encode(), PASSWORD.encode("utf-16-le")}
    files = [p for p in full.root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".pdf" for p in files) and len(files) > 5
    for p in files:
        data = p.read_bytes()
        assert not any(n in data for n in needles), p
    entry = full.enc.entry
    assert entry.kind == "report" and entry.data["encrypted"] is True
    assert "encryption_waived" not in entry.data
    assert PASSWORD not in json.dumps(entry.to_dict(), ensure_ascii=False)
    assert "AES-256" in entry.text


def test_confidential_needs_a_password_or_a_waiver(store, tmp_path):
    iid = store.create_incident(sample_intake(), operator=OP).id
    before = len(store.incident(iid).entries)
    target = tmp_path / "r.pdf"
    for waiver in ("", "   "):
        with pytest.raises(ReportError) as info:
            export_form1(store, iid, target, operator=OP, waive_reason=waiver)
        assert isinstance(info.value, DomainError)
        assert "機密性2" in str(info.value) and "パスワード" in str(info.value)
    assert not target.exists()
    assert len(store.incident(iid).entries) == before
    result = export_form1(store, iid, target, operator=OP, waive_reason=WAIVER)
    assert not result.encrypted and not PdfReader(str(target)).is_encrypted
    entry = store.incident(iid).entries[-1]
    assert entry == result.entry
    assert entry.data["encryption_waived"] == WAIVER and WAIVER in entry.text
    assert entry.data["path"] == str(target) and entry.data["pages"] == result.pages


def test_class_1_may_go_unencrypted(store, tmp_path):
    iid = store.create_incident(sample_intake(), operator=OP).id
    record_triage(store, iid, Triage(fact_check="done", type_id="cyber", ticked=["L2.5"],
                                     context=TriageContext(asset_classes={"confidentiality": "c1"})), operator=OP)
    result = export_form1(store, iid, tmp_path / "c1.pdf", operator=OP)
    assert result.classification == "機密性1" and not result.encrypted
    pages = pypdf_pages(result.path)
    assert all("機密性1" in squash(p) for p in pages)


def test_closure_report(store, tmp_path):
    iid = store.create_incident(sample_intake(), operator=OP).id
    close_incident(store, iid, operator=OP, note="再発がないことを確認した", force=True)
    result = export_form1(store, iid, tmp_path / "close.pdf", operator=OP, variant="closure",
                          waive_reason=WAIVER)
    body = body_text(pypdf_pages(result.path), iid, variant="収束報告")
    assert squash("収束の確認") in body and squash("再発がないことを確認した") in body
    assert result.entry.data["export"] == "closure"
    with pytest.raises(ReportError, match="報告の種類"):
        export_form1(store, iid, tmp_path / "x.pdf", operator=OP, variant="final", waive_reason=WAIVER)


# ---------------------------------------------------------------------------
# Writing the file


def _no_temp_files(folder: Path) -> None:
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


@posix_modes
def test_written_0600_new_or_replacing_a_0644_file(store, tmp_path):
    iid = store.create_incident(sample_intake(), operator=OP).id
    new, old = tmp_path / "new.pdf", tmp_path / "old.pdf"
    old.write_bytes(b"old report")
    old.chmod(0o644)
    for target in (new, old):
        export_form1(store, iid, target, operator=OP, waive_reason=WAIVER, force=True)
        assert target.stat().st_mode & 0o777 == 0o600, target


def test_written_atomically_and_replacing_an_old_file(store, tmp_path, monkeypatch):
    from csirt_tui import jsonfile

    iid = store.create_incident(sample_intake(), operator=OP).id
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "報告.pdf"
    target.write_bytes(b"old report")
    with pytest.raises(ReportError, match="既にあります"):  # not without being told (issue 14.2)
        export_form1(store, iid, target, operator=OP, waive_reason=WAIVER)
    assert target.read_bytes() == b"old report"
    first = export_form1(store, iid, target, operator=OP, waive_reason=WAIVER, force=True)
    assert target.read_bytes().startswith(b"%PDF-") and target.stat().st_size == first.size
    _no_temp_files(folder)
    good = target.read_bytes()
    entries = len(store.incident(iid).entries)

    real_replace = os.replace

    def disk_full(src, dst, *a, **kw):
        if Path(dst) == target:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst, *a, **kw)

    monkeypatch.setattr(jsonfile.os, "replace", disk_full)
    with pytest.raises(ReportError, match="ディスクの空き"):
        export_form1(store, iid, target, operator=OP, waive_reason=WAIVER, force=True)
    monkeypatch.undo()
    assert target.read_bytes() == good  # the old file, whole
    _no_temp_files(folder)
    # the record says an export began and failed, and why (issue 14.11)
    started, failed = store.incident(iid).entries[entries:]
    assert started.data["state"] == "started" and failed.data["state"] == "failed"
    assert failed.data["started"] == started.seq and "ディスクの空き" in failed.text


@pytest.mark.parametrize("case, needle", [
    ("directory", "フォルダです"),
    ("missing", "フォルダがありません"),
    ("not_a_dir", "フォルダでないもの"),
    ("empty", "保存先を指定"),
    ("denied", "書き込む権限がありません"),
])
def test_target_errors_are_plain_report_errors(store, tmp_path, monkeypatch, case, needle):
    from csirt_tui import jsonfile

    iid = store.create_incident(sample_intake(), operator=OP).id
    entries = len(store.incident(iid).entries)
    target = {"directory": tmp_path, "missing": tmp_path / "nowhere" / "r.pdf",
              "not_a_dir": tmp_path / "file.txt" / "r.pdf", "empty": "", "denied": tmp_path / "r.pdf"}[case]
    (tmp_path / "file.txt").write_bytes(b"x")
    if case == "denied":  # (root ignores permissions; the chmod case is below)
        real_open = os.open

        def denied(path, *a, **kw):
            if str(path).endswith(".tmp") and Path(path).parent == tmp_path:
                raise PermissionError(errno.EACCES, "Permission denied")
            return real_open(path, *a, **kw)

        monkeypatch.setattr(jsonfile.os, "open", denied)
    with pytest.raises(ReportError) as info:
        export_form1(store, iid, target, operator=OP, waive_reason=WAIVER)
    monkeypatch.undo()
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert "Traceback" not in str(info.value)
    assert len(store.incident(iid).entries) == entries


@chmod_denies
@not_root
def test_read_only_folder(store, tmp_path):
    iid = store.create_incident(sample_intake(), operator=OP).id
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ReportError, match="書き込む権限がありません"):
            export_form1(store, iid, folder / "r.pdf", operator=OP, waive_reason=WAIVER)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


# ---------------------------------------------------------------------------
# The font


@pytest.fixture
def no_known_fonts(monkeypatch):
    monkeypatch.setattr(pdfkit, "KNOWN_FONTS", ())
    monkeypatch.setattr(pdfkit, "_cache", {})
    monkeypatch.delenv(FONT_ENV, raising=False)


def test_without_a_truetype_font_the_cid_font_is_used_with_a_warning(no_known_fonts, store, tmp_path):
    choice = find_font()
    assert not choice.embedded and choice.path is None
    assert choice.name == pdfkit.CID_FALLBACK
    assert choice.warning and "埋め込まない" in choice.warning and FONT_ENV in choice.warning
    iid = store.create_incident(sample_intake(what=HOSTILE), operator=OP).id
    result = export_form1(store, iid, tmp_path / "cid.pdf", operator=OP, waive_reason=WAIVER)
    assert result.warning == choice.warning
    assert result.pages == len(PdfReader(str(result.path)).pages) >= 2
    assert result.entry.data["font_embedded"] is False
    assert "日本語フォントを埋め込めませんでした" in result.entry.text
    fonts = PdfReader(str(result.path)).pages[0]["/Resources"]["/Font"]
    names = [str(f.get_object()["/BaseFont"]) for f in fonts.values()]
    assert any(pdfkit.CID_FALLBACK in n for n in names)


@pytest.mark.parametrize("content", [b"not a font\n", b"", None])
def test_a_bad_configured_font_falls_back_and_says_why(tmp_path, monkeypatch, content):
    monkeypatch.setattr(pdfkit, "_cache", {})
    bad = tmp_path / "bad.ttf"
    if content is not None:
        bad.write_bytes(content)
    choice = find_font(str(bad))
    assert choice.tried and str(bad) in choice.tried[0]
    assert ("ファイルがありません" if content is None else "埋め込めません") in choice.tried[0]
    if choice.embedded:  # a known font was found instead
        assert "指定のフォントは使えない" in choice.warning and str(bad) in choice.warning
    # the environment variable works the same way
    monkeypatch.setattr(pdfkit, "_cache", {})
    monkeypatch.setenv(FONT_ENV, str(bad))
    assert str(bad) in find_font().tried[0]


def test_a_truncated_font_file_is_refused_not_a_crash(tmp_path, monkeypatch):
    real = require_embedded_font().path
    monkeypatch.setattr(pdfkit, "_cache", {})
    cut = tmp_path / "cut.ttf"
    cut.write_bytes(Path(real).read_bytes()[:5000])
    choice = find_font(str(cut))
    assert choice.embedded and "埋め込めません" in choice.tried[0]


def test_bad_configured_font_without_any_other_falls_back_to_cid(no_known_fonts, tmp_path):
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"plain text, not a font")
    choice = find_font(bad)
    assert not choice.embedded and choice.warning
    assert len(choice.tried) == 1 and str(bad) in choice.tried[0]
    store = Store.open(tmp_path / "s", clock=Clock())
    iid = store.create_incident(sample_intake(), operator=OP).id
    pdf = build_form1(form1_content(store.profile, store.incident(iid), FIXED_NOW), choice)
    assert pdf.startswith(b"%PDF-") and len(PdfReader(io.BytesIO(pdf)).pages) >= 2
