"""Typed text the store cannot take: plain words for it, and a copy elsewhere.

When the store's disk is full (or gone, or read-only) a draft cannot be
written: the screens say where the text is (only on the screen, or an older
draft on disk) and offer to write it to a file the operator names, in another
folder. That file is the text of every field, each labelled, as UTF-8,
written by :func:`csirt_tui.fileout.write_private` (atomic, 0600, never over
an existing file unless asked, never inside the store but its reports/).

Also what the screens need to find and describe the drafts of dialogs (a note,
a correction, a form, a report text: ``Store.save_draft(kind=..., incident=...)``)
without touching the files. No Textual here.
"""

from __future__ import annotations

import errno
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from .errors import DomainError, StoreBusyError
from .textsafe import one_line, printable

# The dialog drafts' kinds (Store.save_draft kind=) and how the desk names them.
DRAFT_KINDS = {"intake": "受付", "note": "メモ", "form": "入力", "report": "記載", "triage": "トリアージ"}
EMPTY = "（未記入）"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def plain_problem(err: BaseException, where: str | os.PathLike | None = None) -> str:
    """``err`` (from writing a draft or a record) in plain words, never a raw ``[Errno 28]``, nor
    a path and 「(lock timeout)」 for a store another process holds (what holds it, busy_holder)."""
    if isinstance(err, StoreBusyError):
        return f"{busy_holder(err)}がストアを使用中です。終わってから、もう一度操作してください"
    if isinstance(err, OSError) and not isinstance(err, DomainError):
        from .fileout import plain_os_error

        code = err.errno
        path = Path(err.filename) if getattr(err, "filename", None) else Path(where or ".")
        said = f"（{err.strerror}）" if err.strerror else ""  # the system's own words, for whoever fixes it
        if code in (errno.ENOSPC, errno.EDQUOT):
            return f"ディスクの空きがありません{said}"  # the store's disk: no file name the operator needs
        return plain_os_error(err, path) + said
    return printable(str(err)).strip() or type(err).__name__


def busy_holder(err: BaseException) -> str:
    """What holds the store, as StoreBusyError's ``holder`` says (Store.holder):
    「別のウィンドウの取り込み（11:02 から、他デスク 山田、pc-desk2）」, 「このデスクで始めた取り込み（11:02 から）」."""
    import socket

    holder = getattr(err, "holder", None)
    if not holder:
        return "別のウィンドウの処理（取り込み・バックアップなど）"
    from .store import holder_text

    own = holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname()
    said = holder_text(holder, who=not own)
    if own:
        return "このデスクで始めた" + said
    return ("別のウィンドウの" if holder.get("what") == "import" else "") + said


def busy_line(err: BaseException, *, saving: str = "記録", kept: str = "", again: str = "Ctrl+S で") -> str:
    """One line for a save (or a discard: ``saving`` 破棄, ``again`` its key: 「Esc を2回押して」) refused because
    another process holds the store (StoreBusyError): what holds it and since when, by whom if it
    says, that nothing was done yet, where the typed text is (``kept``) and what to do."""
    return (f"{busy_holder(err)}がストアを使用中のため、まだ{saving}していません。{kept}"
            f"ストアが空くとこの画面でお知らせします。そのあと {again}もう一度{saving}してください。")


def render_text(title: str, fields: Iterable[tuple[str, Any]], *, operator: str, now: datetime,
                about: str = "") -> str:
    """What the operator typed, every field under its label, as a text a person reads
    (Notepad, a mail): the values exactly as typed (line breaks, control characters and all)."""
    lines = [f"csirt-desk {title}",
             f"書き出した日時: {now:%Y-%m-%d %H:%M:%S}  操作者: {operator}"]
    if about:
        lines.append(about)
    lines.append("（ストアに保存できなかったときのための控えです。内容は入力したとおりです）")
    for label, value in fields:
        lines.append("")
        lines.append(f"【{label}】")
        if isinstance(value, bool):
            lines.append("はい" if value else "いいえ")
        elif value is None or value == "":
            lines.append(EMPTY)
        else:
            lines.append(str(value))
    return "\n".join(lines) + "\n"


def default_copy_path(now: datetime, what: str = "入力") -> str:
    """A file name in the user's home folder (the operator changes it to a USB stick …)."""
    return str(Path.home() / f"csirt-desk-{what}-{now:%Y%m%d-%H%M%S}.txt")


def save_copy(path: str | os.PathLike, text: str, *, store_root: str | os.PathLike,
              force: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path``: refused (DomainError, in plain words) if it is
    in the store, exists already (unless ``force``), or cannot be written. Read back to
    be sure every character is there."""
    from .fileout import write_private
    from .model import clean_text

    # A lone surrogate (pasted from a UTF-16 source) is not a character UTF-8 can hold: named instead.
    text = _LONE_SURROGATE.sub(lambda m: f"〈U+{ord(m.group()):04X}〉", clean_text(text))
    payload = text.encode("utf-8")
    written = write_private(path, payload, "txt", store_root=store_root, force=force)
    try:
        same = written.read_bytes() == payload
    except OSError as err:
        raise DomainError(plain_problem(err, written)) from None
    if not same:
        raise DomainError(f"{written}: 書いた内容を読み返すと違っていました。別の場所を指定してください")
    return written


def dialog_drafts(store, kind: str, incident: str | None, dialog: str) -> list[dict[str, Any]]:
    """The open drafts of one dialog (``kind``, its ``incident``, the dialog's key), newest first."""
    return [d for d in store.list_drafts(kind=kind)
            if d.get("incident") == incident and (d.get("data") or {}).get("dialog") == dialog]


def draft_text(draft: dict[str, Any], width: int | None = None) -> str:
    """The typed text of a dialog draft on one line (what the lists show)."""
    data = draft.get("data") or {}
    values = data.get("values") or {}
    typed = data.get("typed")  # the fields changed from the dialog as it opened (a default is no news)
    parts = [str(v) for k, v in values.items()
             if isinstance(v, str) and v.strip() and (not isinstance(typed, list) or k in typed)]
    return one_line(" / ".join(parts), width)


def draft_what(draft: dict[str, Any]) -> str:
    """What the desk calls a draft's text: 受付, メモ, 訂正, 記載 (報告書), 入力 (a form)."""
    kind = draft.get("kind", "intake")
    if kind == "note" and str((draft.get("data") or {}).get("dialog", "")).startswith("correction:"):
        return "訂正"
    return DRAFT_KINDS.get(kind, "入力")


def draft_label(draft: dict[str, Any]) -> str:
    """What a draft is, for the lists: 受付, or the dialog's title (メモを追加 (2026-0003) …)."""
    kind = draft.get("kind", "intake")
    data = draft.get("data") or {}
    if kind == "intake":
        return DRAFT_KINDS["intake"]
    return one_line(data.get("title") or DRAFT_KINDS.get(kind, kind))


def draft_row(draft: dict[str, Any]) -> tuple[str, str, str]:
    """A draft as the lists show it (the dashboard, ``csirt-desk drafts``, the question before a
    discard): what it is (受付, メモ …), what it is about (いつ・どこで of an intake, the incident
    and dialog of the others) and its typed text, each on one line."""
    data = draft.get("data") or {}
    if draft.get("kind", "intake") == "intake":
        about = " ".join(one_line(str(x)) for x in (data.get("found_at"), data.get("place")) if x)
        return DRAFT_KINDS["intake"], " ".join(x for x in (about, continues_text(draft)) if x), \
            one_line(str(data.get("what") or ""))
    about = f"{draft.get('incident') or '名簿'} {draft_label(draft)}"
    return draft_what(draft), " ".join(x for x in (about, continues_text(draft)) if x), draft_text(draft)


def continued_text(continues: dict[str, Any], new_id: str) -> str:
    """What the operator is told when the draft being typed was closed elsewhere meanwhile (the
    CLI's drafts discard, another desk): the close stays, the text went on in draft ``new_id``."""
    did = {"saved": "記録に保存しました", "discarded": "破棄しました"}.get(continues.get("status"), "閉じました")
    try:
        when = f"{datetime.fromisoformat(continues['closed_at']):%m/%d %H:%M}"
    except (KeyError, TypeError, ValueError):
        when = ""
    who = " ".join(x for x in (when, one_line(str(continues.get("closed_by") or ""))) if x) or "ほかの画面・コマンド"
    return (f"この下書き ({continues.get('id', '')}) は {who} が{did}。"
            f"そのあとの入力は新しい下書き {new_id} に保存しています (前の下書きとその記録はそのまま残ります)。")


def continues_text(draft: dict[str, Any]) -> str:
    """「(破棄された下書き ID の続き)」 for a draft written after the one being typed was closed."""
    cont = draft.get("continues")
    if not isinstance(cont, dict):
        return ""
    said = {"saved": "保存済みの", "discarded": "破棄された"}.get(cont.get("status"), "")
    return f"({said}下書き {cont.get('id', '')} の続き)"


def discard_text(draft: dict[str, Any]) -> str:
    """What a discarded draft's record says: who discarded it and when (the list of discarded drafts)."""
    return f"{draft.get('closed_at', '')} {draft.get('closed_by') or '(操作者の記録なし)'} が破棄"
