"""Making a report and putting it on the record (used by the CLI and the TUI).

The password is used to encrypt the bytes in memory and is then dropped: it
is never written to the store, the record, a log or an error message. The
unencrypted PDF never touches the disk when a password is given.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..model import TimelineEntry
from .content import VARIANTS, classification_of, form1_content
from .names import default_report_path, form1_filename  # noqa: F401  (where they were)
from .pdfkit import FontChoice, ReportError, check_target, encrypt, find_font, write_pdf

KINDS = {
    "form1": "報告様式1",
    "summary": "集計",  # named after the profile's addressee: csirt_tui.report.summary.summary_label
}


@dataclass
class ExportResult:
    path: Path
    pages: int
    encrypted: bool
    size: int
    sha256: str
    font: FontChoice
    classification: str
    entry: TimelineEntry | None = None     # the "report" entry (incident reports)

    @property
    def warning(self) -> str | None:
        return self.font.warning


def encryption_problem(required: bool, password: str | None, waive_reason: str | None, mark: str,
                       profile) -> str | None:
    """Why the export may not go ahead (None when it may). The rule is cited as the store's
    profile has it (Profile.send_rule: 水戸 3(2)キ for Mito, the desk's rule where an
    organisation's rules say nothing; issue 16)."""
    if password:
        return None
    if required and not (waive_reason or "").strip():
        rule = profile.send_rule
        return (f"この報告書は {mark} です（{rule['label']}: {rule['source']}）。"
                "パスワードを指定するか、暗号化しない理由を記入してください")
    return None


def reason_looks_like_a_password(reason: str | None) -> bool:
    """A reason not to encrypt that reads like a password: one word of ASCII letters, digits and
    signs, 6 to 64 characters, of at least two of those kinds ("walk-pass-2026", "Sekret42xQ").
    Typed into the reason's field instead of the password's (the dialog opens on the password:
    Tab Tab lands on the reason), it went into the record in plain text as the reason and the
    PDF went out unencrypted (found walking a call in tmux). A reason is words: 「庁内の施錠
    された端末でのみ扱うため」."""
    text = (reason or "").strip()
    if not 6 <= len(text) <= 64 or not text.isascii() or any(ch.isspace() for ch in text):
        return False
    kinds = (any(ch.isalpha() for ch in text), any(ch.isdigit() for ch in text),
             any(not ch.isalnum() for ch in text))
    return sum(kinds) >= 2


def _page_count(pdf: bytes) -> int:
    # ReportLab writes one "/Type /Page" object per page (and "/Type /Pages" once)
    return pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type /Page>")


def _finish(pdf: bytes, path: Path, password: str | None, *, store_root=None,
            force: bool = False) -> tuple[bytes, int]:
    pages = _page_count(pdf)
    payload = encrypt(pdf, password) if password else pdf
    write_pdf(path, payload, store_root=store_root, force=force)
    return payload, pages


def export_form1(store, incident_id: str, path: str | os.PathLike, *, operator: str,
                 variant: str = "occurrence", password: str | None = None, waive_reason: str = "",
                 font: str | None = None, on_progress: Callable[[str], Any] | None = None,
                 force: bool = False, recipient: str = "", permitted_by: str = "") -> ExportResult:
    """Write 報告様式1 for one incident to ``path`` and record the export on the
    incident's record (a "report" entry: path, variant, encrypted or why not,
    SHA-256 of the file; never the password).

    ``recipient``: the outside body the report is given to (総務省, the police …), if it
    leaves. Where the profile's ``outside_permission`` applies to the incident's class
    (水戸 3(2)ケ(イ)) ``permitted_by`` is then required, and the permission is put on the
    record before the report is made (so section 7 shows it): csirt_tui.outside.

    The record says so before the file exists: an entry "出力を開始" first, then
    the file, then the outcome entry. A crash or a full disk in between leaves a
    record that names the file it was writing, never a report with no record.
    ``force``: write over an existing file (the CLI's --force; the TUI asks)."""
    from .form1 import build_form1

    if variant not in VARIANTS:
        raise ReportError(f"報告の種類が不正です: {variant!r}（{', '.join(VARIANTS)}）")
    target = check_target(path, store_root=store.root, force=force)
    profile = store.profile
    inc = store.incident(incident_id)
    mark, required = classification_of(profile, inc)
    problem = encryption_problem(required, password, waive_reason, mark, profile)
    if problem:
        raise ReportError(problem)
    if (recipient or "").strip():
        from .. import outside

        refused = outside.problem(profile, inc, permitted_by)
        if refused:
            raise ReportError(refused)
        if (permitted_by or "").strip():
            outside.record_permission(store, incident_id, operator=operator, permitted_by=permitted_by,
                                      recipient=recipient, what=f"{KINDS['form1']}（{VARIANTS[variant]}）")
            inc = store.incident(incident_id)
    chosen = find_font(font)
    form = form1_content(profile, inc, store.now(), variant)
    pdf = build_form1(form, chosen, on_progress=on_progress)
    label = f"{KINDS['form1']}（{VARIANTS[variant]}）"
    started = store.append(incident_id, "report", f"{label}の出力を開始: {target}", operator=operator,
                           data={"report": "form1", "export": variant, "path": str(target), "state": "started",
                                 "up_to_seq": inc.entries[-1].seq})
    try:
        payload, pages = _finish(pdf, target, password, store_root=store.root, force=force)
    except ReportError as err:
        store.append(incident_id, "report", f"{label}を出力できませんでした: {err}", operator=operator,
                     data={"report": "form1", "export": variant, "path": str(target), "state": "failed",
                           "started": started.seq, "problem": str(err)})
        raise
    digest = hashlib.sha256(payload).hexdigest()
    how = "暗号化あり（AES-256）" if password else (
        f"暗号化なし（理由: {waive_reason}）" if (waive_reason or "").strip() else "暗号化なし")
    text = f"{label}を出力: {target}\n{pages} ページ、{mark}、{how}\n記録 #{inc.entries[-1].seq} までを収録"
    if not chosen.embedded:
        text += "\n注意: 日本語フォントを埋め込めませんでした"
    data = {"report": "form1", "export": variant, "path": str(target), "pages": pages, "encrypted": bool(password),
            "classification": mark, "sha256": digest, "up_to_seq": inc.entries[-1].seq,
            "font_embedded": chosen.embedded, "state": "written", "started": started.seq}
    if not password and (waive_reason or "").strip():
        data["encryption_waived"] = waive_reason
    entry = store.append(incident_id, "report", text, operator=operator, data=data)
    return ExportResult(path=target, pages=pages, encrypted=bool(password), size=len(payload), sha256=digest,
                        font=chosen, classification=mark, entry=entry)
