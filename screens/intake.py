"""受付 (PoC intake checklist): record a call while talking, keyboard only.

Every change is saved as a draft within 0.25 s (throttled, written by a
worker thread so typing never waits for the disk: screens/form.py DraftKeeper).
Ctrl+S turns the draft into an incident with a 受付 entry holding exactly what
was typed. The form does not close while what is on it is on no disk (a full
disk): Esc and a failed Ctrl+S say where the text is and offer another folder
or the clipboard (Ctrl+O, KeepTextScreen).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import _time, events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from csirt_tui.cells import narrow
from csirt_tui.draftsave import plain_problem
from csirt_tui.errors import DomainError, StoreBusyError
from csirt_tui.intake import build_intake, duty_contacts
from csirt_tui.poc import poc_card
from csirt_tui.model import missing_items
from csirt_tui.textsafe import one_line, printable
from csirt_tui.timeparse import TimeParseError, format_preview, from_iso, parse_time, to_iso
from csirt_tui.views import ITEM_SHORT, intake_entry_text, unread_time_lines
from screens.form import (WRITING, DraftKeeper, DraftStatus, KeepTextScreen, SafeInput, SafeTextArea, StoreWait,
                          all_or_nothing, kept_text, new_draft_id)
from screens.chrome import DeskHeader, OneLine
from screens.commands import bindings
from screens.opening import StyledAtMount
from screens.select import LazySelect
from screens.footer import DeskFooter

SAVE_DELAY = 0.25  # seconds from the first unsaved change to the draft write (goal: ≤ 0.5 s)

TIME_FIELDS = ("received_at", "found_at")
# A form made ahead is laid out again unseen when a layout is asked for after its first unseen one
# (IntakeScreen._on_layout; its footer's keys, then what they change: 2-3 times, 20-50 ms each
# while the dashboard is idle), at most this many times: a widget that asked for a layout at every
# layout would otherwise keep the idle desk laying out a form no one sees; the rest waits for Ctrl+N
UNSEEN_LAYOUTS_AGAIN = 3
NO_SELECTION = getattr(Select, "NULL", None) or getattr(Select, "BLANK")  # Textual ≥ 8 / older


class FieldInput(SafeInput):
    """A one-line field: Enter moves on to the next field (see IntakeScreen); the value
    is kept as typed, shown with control characters as symbols (see SafeInput).

    Focus does not select the text (Textual's Input selects it all): the next key typed would
    replace what was there. Text typed on 通報の種類 goes to (1) いつ and moves the focus there
    (IntakeScreen.text_field_for): its first character was selected by that focus and replaced by the
    second (「今朝9時」 was kept as 「朝9時」 when the form had been made ahead)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)


def big_number(incident_id: str) -> str:
    """「2026-0011」 as 「２ ０ ２ ６ － ０ ０ １ １」: full-width (two cells in every terminal)."""
    return " ".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in incident_id)


def is_blank(values: dict[str, Any]) -> bool:
    """Nothing typed yet (the stamped receipt time and the default channel do not count)."""
    rep = values.get("reporter") or {}
    return not (values.get("reporter_type") or any(
        (values.get(k) or "").strip() for k in ("found_at", "place", "what", "memo"))
        or any((v or "").strip() for v in rep.values())
        or any((v or "").strip() for v in (values.get("extras") or {}).values())
        or (values.get("callback") or {}).get("number"))


def show(static: Static, content: str | Text) -> None:
    """``content`` on ``static``, with a layout of the screen only when its size may change.
    Static.update lays the whole screen out again (the intake at 80x24: ~35 ms) even when the text
    is the one already shown: each key typed redrew the unchanged checklist strip so, and Ctrl+N
    on a form made ahead laid it out again for its unchanged previews (issue 15: Ctrl+N). The same
    text: nothing. Another text: drawn without a layout when the widget's size does not follow
    its text (neither width nor height auto: the checklist's one line), or when both texts are
    one line that fits its width (height auto), as wide as each other if the width is auto."""
    old = static.content
    if type(old) is type(content) and old == content:
        return
    width, height = static.styles.width, static.styles.height
    wide_as_text = width is not None and width.is_auto
    high_as_text = height is None or height.is_auto
    room = static.content_size.width
    old_plain, new_plain = str(old), str(content)
    fits = isinstance(old, (str, Text)) and all(
        "\n" not in text and 0 < cell_len(text) <= room for text in (old_plain, new_plain))
    if not (wide_as_text or high_as_text):
        same_size = isinstance(old, (str, Text))
    else:
        same_size = fits and (not wide_as_text or cell_len(old_plain) == cell_len(new_plain))
    static.update(content, layout=not same_size)


def copy_incident_id(app, incident_id: str) -> str:
    """Send the 受付番号 to the clipboard (OSC 52: Textual's App.copy_to_clipboard) and say what
    was done: the old Windows console host and some remote sessions ignore OSC 52, so the
    words say so and point to the number on screen (plain ASCII, to select or read out)."""
    app.copy_to_clipboard(incident_id)
    return (f"受付番号 {incident_id} をクリップボードに送りました。届かない端末 (古い Windows のコンソールなど) "
            f"では、画面の {incident_id} を選んでコピーするか、書き写してください。")


class SavedScreen(ModalScreen[tuple[str, bool]]):
    """The new incident number, large, to read out to the caller; triage is offered next."""

    KEYS_SCREEN = "saved"
    BINDINGS = bindings("saved")  # screens/commands.py
    DEFAULT_CSS = "SavedScreen #saved-id { text-style: bold reverse; padding: 0 1; }"

    def __init__(self, incident_id: str, missing: list[str], drill: bool = False,
                 unread: dict[str, str] | None = None) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.missing = missing
        self.drill = drill
        self.unread = unread or {}  # the times kept as typed, not read (build_intake's time_errors)

    def compose(self) -> ComposeResult:
        with Vertical(id="saved-box"):
            yield Label(("【訓練】訓練の" if self.drill else "") + "受付番号 (通報者に伝えてください)",
                        classes="saved-title")
            # large for reading out: full-width digits, spaced (Textual's Digits draws them with
            # box-drawing characters, ambiguous-width: issue 15)
            yield Static(big_number(self.incident_id), id="saved-id", markup=False)
            yield Static(self.incident_id + " を記録しました。", markup=False)
            if self.missing:
                yield Static(narrow("未記入の項目: " + "・".join(ITEM_SHORT.get(m, m) for m in self.missing))
                             + "。ダッシュボードに「未記入」と表示されます。", markup=False, classes="warn")
            for line in unread_time_lines(self.app.store.profile, self.unread):  # 今朝9時 at 04:50: saved as typed
                yield Static(narrow(line), markup=False, classes="warn")
            yield Static("", id="saved-copied", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("ダッシュボードへ (Enter)", id="saved-close", variant="primary")
                yield Button("トリアージへ (t)", id="saved-triage")
                yield Button("番号をコピー (c)", id="saved-copy")

    def on_mount(self) -> None:
        self.query_one("#saved-close", Button).focus()

    @on(Button.Pressed, "#saved-close")
    def action_close(self) -> None:
        self.dismiss((self.incident_id, False))

    @on(Button.Pressed, "#saved-triage")
    def action_triage(self) -> None:
        self.dismiss((self.incident_id, True))

    @on(Button.Pressed, "#saved-copy")
    def action_copy_id(self) -> None:
        said = copy_incident_id(self.app, self.incident_id)
        self.query_one("#saved-copied", Static).update(said)
        self.query_one("#saved-close", Button).focus()  # Enter goes on to the dashboard as before


# one word, so that the banner's wrapping never cuts it (「(F3: PoC」 | 「カード)」 at 80 columns)
F3_HINT = "(F3:PoCカード)"


class IntakeScreen(StyledAtMount, Screen):  # not restyled and laid out again as it opens (screens/opening.py)
    """The PoC card: ①いつ ②どこで ③何がどのように ④誰が, plus channel, source and fact check."""

    # Enter / Tab / Shift+Tab are priority bindings so that focus moves when the
    # key is read, not when the field gets round to it: what an operator types
    # right after Enter lands in the next field, however fast they type.
    KEYS_SCREEN = "intake"
    BINDINGS = bindings("intake")  # screens/commands.py
    # Focus goes straight to 通報の種類 (受付方法 defaults to the desk's 内線): Textual's auto focus
    # gave it first to the scrolling form, whose focus and blur restyled all its fields twice
    # (about a fifth of Ctrl+N's time, bench/intake.py)
    AUTO_FOCUS = "#reporter_type"

    def _overlay_open(self) -> bool:
        return any(getattr(sel, "expanded", False) for sel in self.query(Select))

    def action_enter_key(self) -> None:
        if isinstance(self.focused, FieldInput) and not self._overlay_open():
            self.focus_next()
        else:
            raise SkipAction()

    def action_move(self, step: int) -> None:
        if self._overlay_open():
            raise SkipAction()
        if step > 0:
            self.focus_next()
        else:
            self.focus_previous()

    def __init__(self, draft: dict[str, Any] | None = None, *, drill_scenario=None) -> None:
        super().__init__()
        self.draft = draft
        # 訓練 started from a scenario (csirt_tui.drill): the caller's words are shown, the fields
        # left for the operator to type (a drill of taking the call down, not of reading it)
        self.scenario = drill_scenario
        self._values_loaded = False
        # a resumed draft: when its times were typed, and what they were (counted from then while
        # unchanged: build_intake's typed_at)
        self._typed_at: datetime | None = None
        self._typed_times: dict[str, str] = {}
        # SAVE_DELAY read when each write is due (the tests hold the timer back through it)
        self.keeper = DraftKeeper(self, self.values, blank=is_blank, draft=draft,
                                  on_change=self._draft_state_changed, delay=lambda: SAVE_DELAY)
        self.store_wait = StoreWait(self, self._draft_state_changed, saving="保存")
        # Set once the form is mounted with its focus: keys read before (Ctrl+N took a form made
        # ahead that was still being built, or built one) wait for it, in order (CsirtDeskApp.on_event)
        self.keys_wait = asyncio.Event()
        self._taken_early = False  # taken by Ctrl+N before it was mounted (open_now)

    @property
    def draft_id(self) -> str | None:
        return self.keeper.draft_id

    @property
    def saved_at(self) -> str:
        return self.keeper.written_at

    # ------------------------------------------------------------ layout
    def _scenario_of_draft(self):
        sid = ((self.draft or {}).get("data") or {}).get("drill_scenario")
        if not sid or self.scenario is not None:
            return
        from csirt_tui.drill import find_scenario

        try:
            self.scenario = find_scenario(self.app.store.profile, sid)
        except DomainError:  # a scenario no longer shipped: still a drill (the checkbox), no words
            self.scenario = None

    def compose(self) -> ComposeResult:
        app = self.app
        profile = app.store.profile
        now = app.now()
        self._scenario_of_draft()
        # The receipt time is stamped when the screen opens (editable; a screen made ahead is
        # stamped again when Ctrl+N takes it: open_now).
        self.stamp = (self.draft or {}).get("data", {}).get("received_at") or f"{now:%Y-%m-%d %H:%M}"
        items = {i["key"]: narrow(i["label"]) for i in profile.poc["items"]}  # ①いつ drawn as (1)いつ
        yield DeskHeader()
        banner = Static("", id="out-of-hours", classes="banner-out-of-hours", markup=False)
        banner.display = False
        yield banner
        drill = OneLine("", id="drill-banner", classes="banner-drill")
        drill.display = False
        yield drill
        if self.scenario is not None:
            with VerticalScroll(id="drill-says", can_focus=False):
                yield Static(narrow("通報者の言葉 (訓練の相手役が読み上げる。F4 で続き / 隠す / 表示):\n"
                                    + self.scenario.says.strip()), markup=False)
        yield Static("", id="checklist", markup=False)
        yield DraftStatus(id="draft-status")
        # not focusable itself: Tab / Shift+Tab go from field to field (the form scrolls to the focused one)
        with VerticalScroll(id="intake-form", can_focus=False):
            with Horizontal(classes="row"):
                yield Label("受付日時", classes="label")
                yield FieldInput(self.stamp, id="received_at", classes="short", compact=True)
                yield Static("", id="received_at-preview", classes="preview", markup=False)
            with Horizontal(classes="row"):
                yield Label("受付方法", classes="label")
                yield LazySelect([(Text(narrow(c["label"])), c["id"]) for c in profile.channels], id="channel",
                                 value="naisen" if any(c["id"] == "naisen" for c in profile.channels) else NO_SELECTION,
                                 prompt="受付方法を選択", compact=True)
            with Horizontal(classes="row"):
                yield Label("通報の種類", classes="label")
                yield LazySelect([(Text(narrow(s["label"])), s["id"]) for s in profile.report_sources],
                                 id="reporter_type", prompt="通報の種類を選択", compact=True)
            yield Static("", id="method", classes="method", markup=False)
            yield Label(items["found_at"], classes="item-label")
            yield FieldInput(id="found_at", compact=True, placeholder="例: 14:30 / 今朝9時 / 昨日 14時半 / 30分前 / さっき")
            yield Static("", id="found_at-preview", classes="preview", markup=False)
            yield Label(items["place"], classes="item-label")
            yield FieldInput(id="place", compact=True, placeholder="サイト・庁舎・階・課・機器 (例: 本庁舎3階 税務課 窓口端末)")
            yield Label(items["what"], classes="item-label")
            yield SafeTextArea(id="what", soft_wrap=True, tab_behavior="focus", classes="multiline", compact=True)
            yield Label(items["reporter"], classes="item-label")
            with Horizontal(classes="row"):
                yield FieldInput(id="rep_name", compact=True, placeholder="氏名", classes="third")
                yield FieldInput(id="rep_section", compact=True, placeholder="所属", classes="third")
                yield FieldInput(id="rep_contact", compact=True, placeholder="内線・電話", classes="third")
            for extra in profile.poc.get("extra_items", []):
                yield Label(narrow(extra["label"]), classes="item-label")
                if extra.get("kind") == "multiline":
                    yield SafeTextArea(id=f"x-{extra['key']}", soft_wrap=True, tab_behavior="focus",
                                       classes="multiline", compact=True)
                else:
                    yield FieldInput(id=f"x-{extra['key']}", compact=True)
                    if extra.get("kind") == "time":
                        yield Static("", id=f"x-{extra['key']}-preview", classes="preview", markup=False)
            yield Label("折り返し先 (事実確認のための連絡先)", classes="item-label")
            with Horizontal(classes="row"):
                yield FieldInput(id="callback_number", compact=True, placeholder="電話番号", classes="third")
                yield Checkbox("折り返し確認済み", id="callback_ok", compact=True)
                yield Static("", id="callback_at", markup=False)
            yield Label("メモ", classes="item-label")
            yield SafeTextArea(id="memo", soft_wrap=True, tab_behavior="focus", classes="multiline small", compact=True)
            # 訓練 (むつ 要綱 2条(2)イ): marked in the 受付 entry itself; a scenario's drill is always one
            yield Checkbox("訓練として受け付ける (実際のインシデントとして数えない)", id="drill", compact=True,
                           value=self.scenario is not None, disabled=self.scenario is not None)
        # its keys as it mounts, for the terminal's width: one paint of the whole form (built when
        # Ctrl+N comes at once after start, the form was drawn with an empty footer, then its keys
        # built, laid out and drawn: ~20 ms more before the form was whole; screens/footer.py)
        yield DeskFooter(at_mount=True)

    def _out_of_hours_text(self, now: datetime) -> str:
        profile = self.app.store.profile
        people = duty_contacts(profile, self.app.store.list_people(), now)
        roles = {r["id"]: r["label"] for r in profile.roles}
        contacts = "  ".join(
            f"{narrow(roles.get(p['role'], p['role']))} {p.get('name', '')} {p.get('mobile') or p.get('phone') or ''}"
            for p in people) or "名簿に夜間・休日の連絡先がありません"
        head = f"時間外です (PoC: {narrow(profile.poc.get('hours_label', ''))})。夜間・休日の連絡先: {contacts}"
        if self.app.size.height < 30:
            # 24 rows: the night contacts are what the operator needs now; the card's address and
            # mail would push the form's (1)-(4) below the screen (F3 shows the whole card)
            return head + "  " + F3_HINT
        card = "  ".join(f"{label} {value}" for label, value in poc_card(profile)
                         if label in ("PoC", "所在地", "電話番号", "メール"))
        return head + "\n" + narrow(card) + "  " + F3_HINT

    def on_unmount(self) -> None:
        self.keeper.detached = True

    def on_mount(self) -> None:
        try:
            self.keeper.start()
            if self.draft:
                self._load(self.draft.get("data") or {})
            self._values_loaded = True
            if self._taken_early:
                self._stamp_now()  # stamped, its hours shown and all refreshed as it opens now
            else:
                self._show_hours()
                self._refresh_all()
            # 受付方法 defaults to the desk's 内線 (Shift+Tab to change it): start at 通報の種類. At once,
            # not through the message loop as focus() does: the keys held till now go there next.
            self.set_focus(self.query_one("#reporter_type", Select), scroll_visible=False)
            if not self.is_current and not self._taken_early:  # made ahead (CsirtDeskApp.prepare_intake):
                self.call_later(self._lay_out_unseen)           # laid out and drawn unseen
        finally:
            self.keys_wait.set()

    def _lay_out_unseen(self) -> None:
        """Lay the form out for the terminal's size and draw it once, before it is shown: Ctrl+N
        then shows lines already drawn."""
        self._unseen_again = False
        if self.is_current or not self.is_attached:
            return
        self._unseen_layouts += 1
        self._met_requests()  # what its building asked for: met by this layout (screens/opening.py),
        self._first_layout_at = _time.get_time()  # its requests still on their way too (_on_layout)
        self._refresh_layout(self.app.size)
        self._met_requests()  # and what this layout's sizes asked for
        self._layout_required = False
        self._compositor.render_update(full=True)
        self._drawn_unseen = self.app.theme

    _drawn_unseen: str | None = None  # the theme the form was styled and drawn with, unseen

    def _on_layout(self, message) -> None:  # type: ignore[no-untyped-def]
        """A layout asked for while the form made ahead is still unseen (its footer, given its width
        by the unseen layout, shows the keys that fit: new keys): laid out again unseen, now, not
        when Ctrl+N shows it (~20 ms of Ctrl+N's time at 80x24)."""
        if self._drawn_unseen is not None and not self.is_current and not self._unseen_again \
                and self._unseen_layouts <= UNSEEN_LAYOUTS_AGAIN:
            self._unseen_again = True
            self.call_later(self._lay_out_unseen)

    _unseen_again = False  # a layout unseen is due again (_on_layout)
    _unseen_layouts = 0  # made so far (_lay_out_unseen)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """Shown for the first time after it was drawn unseen: its styles are as they were just
        made (unless the theme changed since), so Textual need not restyle every field again
        (Screen._on_screen_resume runs after this)."""
        if self._drawn_unseen is not None:
            if self._drawn_unseen == self.app.theme:
                event.refresh_styles = False
            self._drawn_unseen = None
            # What it drew unseen never reached the terminal, and it needs no layout now: the
            # terminal is sent the whole form once (without, only what changed at Ctrl+N was: the
            # time, the banner; the rest of the screen still showed the dashboard, in a pty)
            self.call_later(self._draw_whole)

    def _draw_whole(self) -> None:
        if self.is_current:
            self.app._display(self, self._compositor.render_update(full=True))

    def _show_hours(self) -> None:
        """The out-of-hours banner with the night and holiday contacts, as of now."""
        now = self.app.now()
        banner = self.query_one("#out-of-hours", Static)
        out = not self.app.store.profile.in_hours(now)
        if out:
            banner.update(self._out_of_hours_text(now))
        banner.display = out

    def open_now(self) -> None:
        """A blank form made ahead of the call (CsirtDeskApp.prepare_intake) is taken by Ctrl+N:
        as if it opened now: the receipt time, the out-of-hours banner, a new draft id. One still
        being built (Ctrl+N pressed just after start) is opened so as it mounts."""
        if not self.is_mounted:
            self._taken_early = True
            return
        self._stamp_now()

    def _stamp_now(self) -> None:
        if self.draft or self.keeper.ever_written:
            return
        now = self.app.now()
        field = self.query_one("#received_at", Input)
        if field.value == self.stamp:
            self.stamp = f"{now:%Y-%m-%d %H:%M}"
            field.value = self.stamp
        self.keeper.draft_id = new_draft_id(now)
        self._show_hours()
        self._refresh_all()

    def text_field_for(self, focused) -> Input | TextArea | None:  # type: ignore[no-untyped-def]
        """Where text typed on ``focused`` goes (CsirtDeskApp.on_event, as the key is read): on a
        choice (受付方法, 通報の種類) the operator is already answering (1) いつ; a closed Select
        ignores typed text, so it went nowhere. On a checkbox (折り返し確認済み, 訓練として受け付ける)
        it is what the caller says next, the メモ (the field after 折り返し確認済み): a checkbox
        ignores typed text too (screens/typed.py)."""
        if isinstance(focused, Select):
            return self.query_one("#found_at", Input)
        if isinstance(focused, Checkbox):
            return self.query_one("#memo", TextArea)
        return None

    # ------------------------------------------------------------ values
    def _input(self, wid: str) -> str:
        return self.query_one(f"#{wid}", Input).value

    def _area(self, wid: str) -> str:
        return self.query_one(f"#{wid}", TextArea).text

    def values(self) -> dict[str, Any]:
        """What is on the form now, exactly as typed (the draft and the intake's raw input)."""
        profile = self.app.store.profile
        channel_sel = self.query_one("#channel", Select)
        source_sel = self.query_one("#reporter_type", Select)
        extras = {}
        for extra in profile.poc.get("extra_items", []):
            wid = f"x-{extra['key']}"
            extras[extra["key"]] = self._area(wid) if extra.get("kind") == "multiline" else self._input(wid)
        return {
            "received_at": self._input("received_at"),
            "channel": None if channel_sel.is_blank() else channel_sel.value,
            "reporter_type": None if source_sel.is_blank() else source_sel.value,
            "found_at": self._input("found_at"),
            "place": self._input("place"),
            "what": self._area("what"),
            "reporter": {"name": self._input("rep_name"), "section": self._input("rep_section"),
                         "contact": self._input("rep_contact")},
            "extras": extras,
            "callback": {"number": self._input("callback_number"),
                         "confirmed_at": self.query_one("#callback_ok", Checkbox).value and self._callback_at or ""},
            "memo": self._area("memo"),
            "drill": self.query_one("#drill", Checkbox).value,
            "drill_scenario": self.scenario.id if self.scenario is not None else None,
        }

    _callback_at = ""

    def _load(self, data: dict[str, Any]) -> None:
        def put(wid, value):
            if value:
                self.query_one(f"#{wid}", Input).value = value

        self._typed_at = self._heard_when(data)
        self._typed_times = self._times_heard(data)
        put("received_at", data.get("received_at"))
        for key in ("channel", "reporter_type"):
            if data.get(key):
                try:
                    self.query_one(f"#{key}", Select).value = data[key]
                except Exception:  # an id no longer in the profile: keep the rest
                    pass
        put("found_at", data.get("found_at"))
        put("place", data.get("place"))
        self.query_one("#what", TextArea).text = data.get("what") or ""
        rep = data.get("reporter") or {}
        put("rep_name", rep.get("name"))
        put("rep_section", rep.get("section"))
        put("rep_contact", rep.get("contact"))
        for key, value in (data.get("extras") or {}).items():
            for widget in self.query(f"#x-{key}"):
                if isinstance(widget, TextArea):
                    widget.text = value or ""
                elif isinstance(widget, Input):
                    widget.value = value or ""
        cb = data.get("callback") or {}
        put("callback_number", cb.get("number"))
        if cb.get("confirmed_at"):
            self._callback_at = cb["confirmed_at"]
            self.query_one("#callback_ok", Checkbox).value = True
        self.query_one("#memo", TextArea).text = data.get("memo") or ""
        if data.get("drill"):
            self.query_one("#drill", Checkbox).value = True

    # ------------------------------------------------------------ live feedback
    def _refresh_all(self) -> None:
        for wid in TIME_FIELDS:
            self._preview(wid)
        for extra in self.app.store.profile.poc.get("extra_items", []):
            if extra.get("kind") == "time":
                self._preview(f"x-{extra['key']}")
        self._show_method()
        self._update_checklist()
        self._show_drill()

    def _show_drill(self) -> None:
        """【訓練】 above the form while the intake is a drill's."""
        banner = self.query_one("#drill-banner", OneLine)
        on = self.query_one("#drill", Checkbox).value
        banner.display = on
        if on:
            what = f"「{self.scenario.title}」" if self.scenario is not None else "訓練として受け付けます"
            banner.text = narrow(f"【訓練】実際のインシデントとして数えません {what}")
            banner.refresh()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """F4 (通報者の言葉) only on a drill's intake from a scenario: on a real call's intake the
        footer offered 「F4 通報者の言葉」 (120 columns) and the key did nothing."""
        if action == "toggle_says":
            return self.scenario is not None
        return True

    def action_toggle_says(self) -> None:
        """F4: the caller's words of a drill's scenario: the next lines (the panel is a few lines
        high at 80x24), hidden after the last, shown again from the top."""
        for panel in self.query("#drill-says"):
            if not panel.display:
                panel.display = True
                panel.scroll_home(animate=False)
            elif panel.scroll_y < panel.max_scroll_y:
                panel.scroll_to(y=panel.scroll_y + max(panel.size.height - 1, 1), animate=False)
            else:
                panel.display = False

    def _preview(self, wid: str) -> None:
        text = self._input(wid)
        target = self.query_one(f"#{wid}-preview", Static)
        if not text.strip():
            show(target, "")
            target.remove_class("error")
            return
        try:
            dt = parse_time(text, self._heard_at(wid, text))
        except TimeParseError as err:
            show(target, "✘ " + one_line(str(err)))
            target.add_class("error")
        else:
            show(target, "-> " + narrow(format_preview(dt)))
            target.remove_class("error")

    def _heard_when(self, data: dict[str, Any]) -> datetime | None:
        """When a resumed draft's times were heard: on the call, so from its receipt time (as typed in
        the draft, read as of the draft's last write), or the draft's last write if that is earlier
        or the receipt time cannot be read. The last write alone moved on with every resume that
        typed anything: 「さっき」 typed at 10:00, resumed at 11:00 to add the place, saved at 12:00,
        was recorded found at 10:50, after the call was received at 10:00."""
        try:
            written = datetime.fromisoformat((self.draft or {}).get("updated_at") or "")
        except ValueError:
            return None
        try:
            received = parse_time(data.get("received_at") or "", written)
        except TimeParseError:
            return written
        return min(received, written)

    def _heard_at(self, wid: str, text: str) -> datetime:
        """What the relative words of a time field are counted from: now, or when a resumed draft's
        time was typed while it is as it came back (「さっき」 typed at 10:00 meant 09:50 at 11:00 too)."""
        now = self.app.now()
        if wid != "received_at" and self._typed_at is not None and self._typed_times.get(wid) == text:
            return min(self._typed_at, now)
        return now

    def typed_at(self) -> datetime | None:
        """build_intake's typed_at: the draft's time while every time heard is as it came back."""
        if self._typed_at is None:
            return None
        return self._typed_at if self._times_heard(self.values()) == self._typed_times else None

    def _times_heard(self, data: dict[str, Any]) -> dict[str, str]:
        """The time fields of the call, by field id: (1)いつ and the profile's time items."""
        extras = data.get("extras") or {}
        times = [x["key"] for x in self.app.store.profile.poc.get("extra_items", []) if x.get("kind") == "time"]
        return {"found_at": data.get("found_at") or "", **{f"x-{k}": extras.get(k) or "" for k in times}}

    def _show_method(self) -> None:
        select = self.query_one("#reporter_type", Select)
        source = select.value
        method = self.query_one("#method", Static)
        if select.is_blank():
            show(method, "事実関係の確認の方法: 通報の種類を選ぶと表示します")
            return
        src = self.app.store.profile.report_source(source)
        lead = "【折り返し確認が必要】" if src.get("callback") else ""
        show(method, narrow(f"事実関係の確認の方法{lead}: {src.get('method', '')}"))

    def _update_checklist(self) -> None:
        data = self.values()
        intake = {"found_at_text": data["found_at"], "place": data["place"], "what": data["what"],
                  "reporter": {"name": data["reporter"]["name"], "contact": data["reporter"]["contact"]}}
        missing = set(missing_items(intake))
        if data["found_at"].strip() and self.query_one("#found_at-preview", Static).has_class("error"):
            missing.add("found_at")  # typed, but not a time it can take (the preview says why): not ✔
        strip = Text()
        for key in ("found_at", "place", "what", "reporter"):
            ok = key not in missing
            strip.append(f" {'✔' if ok else '✘'} {narrow(ITEM_SHORT[key])} ", style="bold green" if ok else "bold red")
        strip.append(f"  受付 {printable(data['received_at'])}")
        if self.saved_at:
            strip.append(f"  下書き保存 {self.saved_at}", style="dim")
        show(self.query_one("#checklist", Static), strip)

    # ------------------------------------------------------------ change → draft
    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self, event) -> None:
        if not self._values_loaded:
            return
        control = getattr(event, "control", None) or getattr(event, "text_area", None)
        wid = getattr(control, "id", "") or ""
        if wid in TIME_FIELDS or (wid.startswith("x-") and self.query(f"#{wid}-preview")):
            self._preview(wid)
        if wid == "reporter_type":
            self._show_method()
        if wid == "drill":
            self._show_drill()
        if wid == "callback_ok":
            # stamped when ticked, kept while ticked: a draft's tick (loaded before this Changed
            # arrives) keeps its time; it was stamped again with the time the draft was resumed
            if not event.value:
                self._callback_at = ""
            elif not self._callback_at:
                self._callback_at = to_iso(self.app.now())
            # short (the record keeps the time to the second): at 80x24 「(2026年12月6日(日)
            # 06:49:26 確認)」 left the number typed 19 cells, 「０１７５－２２－１」
            at = from_iso(self._callback_at) if self._callback_at else None
            self.query_one("#callback_at", Static).update(
                "" if at is None else f"({at:%H:%M} 確認)" if at.date() == self.app.now().date()
                else f"({at:%m/%d %H:%M} 確認)")
        self._update_checklist()
        self.keeper.changed()

    def _draft_state_changed(self) -> None:
        """Where the text is has changed (written, refused, written again): say it on the form."""
        if not self.is_mounted:
            return
        self._update_checklist()
        keeper = self.keeper
        status = self.query_one("#draft-status", DraftStatus)
        if self.store_wait.line and keeper.safe():  # the store busy: said until it is free, then that
            status.say(self.store_wait.line, "ask")
        elif keeper.on_disk():
            status.say("")
        elif keeper.safe():
            status.say(keeper.where_text(), "ask")
        elif keeper.writing_behind():  # not refused: being written, slowly (the rest follows it)
            status.say(WRITING + "。", "ask")
        elif keeper.problem:
            status.say("⚠ " + keeper.where_text() + " この画面は閉じません。Ctrl+O: 別の場所に保存・コピー", "alarm")

    def draft_title(self) -> str:
        return "受付の入力"

    def flush_now(self, *, report: bool = True) -> str | None:
        """Write the draft synchronously (leaving the screen, saving, the desk closing): the
        form as it is now, unless that is on disk already. Returns what went wrong, if the
        text could not be written (see DraftKeeper.flush_now)."""
        return self.keeper.flush_now(report=report)

    def text_fields(self) -> list[tuple[str, Any]]:
        """Every field of the form under its label (the copy kept in another folder)."""
        profile = self.app.store.profile
        v = self.values()
        items = {i["key"]: i["label"] for i in profile.poc["items"]}
        labels = lambda choices, cid: next((c["label"] for c in choices if c["id"] == cid), cid)  # noqa: E731
        rep, cb = v["reporter"], v["callback"]
        out = [("受付日時", v["received_at"]),
               ("受付方法", labels(profile.channels, v["channel"]) if v["channel"] else ""),
               ("通報の種類", labels(profile.report_sources, v["reporter_type"]) if v["reporter_type"] else ""),
               (items["found_at"], v["found_at"]), (items["place"], v["place"]), (items["what"], v["what"]),
               (items["reporter"] + " 氏名", rep["name"]), (items["reporter"] + " 所属", rep["section"]),
               (items["reporter"] + " 連絡先", rep["contact"])]
        for extra in profile.poc.get("extra_items", []):
            out.append((extra["label"], v["extras"].get(extra["key"], "")))
        out += [("折り返し先", cb["number"]), ("折り返し確認済み", cb["confirmed_at"] or False), ("メモ", v["memo"])]
        if v["drill"]:
            out.append(("訓練", v["drill_scenario"] or True))
        return out

    # ------------------------------------------------------------ keys
    def action_leave(self) -> None:
        """Esc: back to where the call came from, the draft kept; not while the text is on no
        disk (a full disk): then say so and offer another folder or the clipboard."""
        keeper = self.keeper
        if self.app.screen is not self:  # left meanwhile, or a dialog over it (an Esc kept for a write)
            return
        try:
            keeper.flush_now(report=False)
        except Exception as err:  # noqa: BLE001 - said, and the form stays: the text is what matters
            keeper.problem = keeper.problem or plain_problem(err)
        if keeper.writing_behind():  # the autosave under way is slow (the disk): Esc acts once it is done
            self.query_one("#draft-status", DraftStatus).say(
                "下書きを書き込んでいる途中です（ディスクの応答が遅れています）。"
                "書き終わりしだい、入力をすべて下書きに保存してこの画面を閉じます。", "ask")
            keeper.when_written(self.action_leave)
            return
        if keeper.safe():
            if not keeper.on_disk():
                self.app.notify(keeper.where_text(), title="画面を閉じました", severity="warning",
                                timeout=15, markup=False)
            self.app.pop_screen()
            return
        self.action_keep_elsewhere("画面を閉じません: 入力がディスクに保存されていません。")

    def action_keep_elsewhere(self, reason: str = "") -> None:
        if not isinstance(self.app.screen, KeepTextScreen):
            self.app.push_screen(KeepTextScreen(self.keeper, self.draft_title(), self.text_fields,
                                                file_word="受付", reason=reason))

    def action_save(self) -> None:
        app = self.app
        store = app.store
        values = self.values()
        keeper = self.keeper
        try:
            keeper.flush_now(report=False)  # what it could not write is said below
            drill = values.pop("drill")
            values.pop("drill_scenario")
            with all_or_nothing(store):  # briefly waited for: the keys never wait for an import
                if drill:
                    from csirt_tui.drill import start_drill

                    inc = start_drill(store, values, operator=app.operator, scenario=self.scenario,
                                      typed_at=self.typed_at())
                else:
                    intake = build_intake(store.profile, values, app.now(), strict=False, typed_at=self.typed_at())
                    inc = store.create_incident(intake, operator=app.operator,
                                                text=intake_entry_text(store.profile, intake))
        except StoreBusyError as err:  # another process holds the store (an import): said, the form stays
            line = self.store_wait.busy(err, kept_text(keeper))  # on the status line, on top (a toast covered the card)
            if not keeper.safe():
                self.action_keep_elsewhere(f"{line}\nこの画面は閉じません。")
            return
        except (DomainError, OSError) as err:
            # Say where the text is, truly: in the draft (as it is now, or older), or only here.
            where = f"入力は下書きに保存してあります ({keeper.written_at})。" if keeper.ever_written else ""
            problem = plain_problem(err)
            said = "受付を保存できませんでした" + ("。" if problem == keeper.problem else f": {problem}")
            if keeper.safe():
                self.notify(f"{said}\n{where}".rstrip(), title="受付を保存していません", severity="error",
                            timeout=15, markup=False)
            else:  # the dialog says it, and where the text can go
                self.action_keep_elsewhere(f"{said}\nこの画面は閉じません。")
            return
        self.store_wait.clear()
        problem = keeper.close("saved", incident_id=inc.id)
        if problem:  # the incident is saved; the draft stays listed until the disk takes the change
            self.notify(f"下書きを「保存済み」にできませんでした（{problem}）: ディスクに書けるようになりしだい行います",
                        severity="warning", markup=False)
        app.push_screen(SavedScreen(inc.id, inc.missing, inc.drill, inc.intake.get("time_errors")), self._after_save)

    def _after_save(self, answer: tuple[str, bool]) -> None:
        incident_id, triage = answer
        app = self.app
        app.pop_screen()
        screen = app.screen
        if hasattr(screen, "refresh_data"):
            screen.refresh_data(select=incident_id)
        if triage:
            app.open_triage(incident_id)
