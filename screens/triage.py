"""トリアージ: from the report to a level, a priority and who must be told.

A guided sequence, every step visible and changeable: 1 事実確認, 2 種別
(with the exclusions offered), 3 レベル (the profile's table: tick what
matches; context that raises severity), 4 判断 (incident or not, level,
priority with its reasons), 5 what it sets in motion (notifications, first
steps) or, at level 0, the not-an-incident path. Ctrl+S records it all.

What the handler types or chooses is a draft (issue 14, defect 4): kind "triage", the
incident's id, written within 0.25 s of a change as every dialog's (screens/form.py
DraftedDialog: the screen is one, full-screen). Esc with anything typed or chosen asks
first (a second Esc discards); Ctrl+O keeps the text elsewhere when the disk refuses it;
the triage on the record closes the draft; opened again, after a quit or a crash too, the
triage of that incident offers it back.
"""

from __future__ import annotations

import asyncio

from typing import Any

from rich.segment import Segment
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.actions import SkipAction
from textual.content import Content
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets._toggle_button import ToggleButton
from textual.widgets import (Checkbox, Input, Label, RadioButton, RadioSet, Select,
                             SelectionList, Static)

from csirt_tui import triage as core
from csirt_tui.draftsave import dialog_drafts
from csirt_tui.errors import DomainError
from csirt_tui.textsafe import one_line, printable
from csirt_tui.timeparse import TimeParseError, format_preview, parse_time, to_iso
from csirt_tui.views import short_time
from csirt_tui.cells import cut, narrow
from screens.chrome import PlainBars, SteadyStatic
from screens.commands import bindings
from screens.footer import DeskFooter
from screens.select import LazySelect
from screens.form import DraftedDialog, DraftKey, DraftStatus, SafeInput

NO_SELECTION = getattr(Select, "NULL", None) or getattr(Select, "BLANK")
FACT_CHOICES = (("done", "確認済み"), ("pending", "確認中（保留のまま進める）"), ("not_needed", "不要"))
YES_NO = [(Text("あり"), "yes"), (Text("なし"), "no"), (Text("不明"), "unknown")]


# The screen's fields, by kind (the draft's values are keyed by these ids).
SELECTS = ("personal_data", "encrypted", "segment", "ac-confidentiality", "ac-integrity", "ac-availability",
           "override", "reported_to")
CHECKS = ("outward_attack", "crime")
TEXTS = ("fact_note", "stop_hours", "override_reason", "reply_who", "reply_when", "reply_how", "warning")
NOT_INCIDENT_FIELDS = ("reported_to", "reply_who", "reply_when", "reply_how", "warning")  # (made when shown)


def _widgets_in(widget: Widget) -> int:
    """``widget`` and the children it was made with (not mounted yet)."""
    return 1 + sum(_widgets_in(child) for child in widget._pending_children)


def _row(*children: Widget) -> Horizontal:
    return Horizontal(*children, classes="row")


def _label(text: str) -> Label:
    return Label(text, classes="field-label")


def _choices(items: list[dict[str, Any]]) -> list[tuple[Text, Any]]:
    return [(Text(narrow(item["label"])), item["id"]) for item in items]


def _sel(widget: Select) -> Any:
    return None if widget.is_blank() else widget.value


def option_label(widget: Select) -> str:
    """What a Select shows for its value ("" when none is chosen)."""
    if widget.is_blank():
        return ""
    return next((str(prompt) for prompt, value in widget._options if value == widget.value), str(widget.value))


def _type_of(name: str | None) -> tuple[str | None, str | None]:
    """(type id, exclusion id) of a type button's name: type:ID or excl:ID:EXCLUSION."""
    parts = (name or "").split(":")
    if parts[0] == "type" and len(parts) == 2:
        return parts[1], None
    if parts[0] == "excl" and len(parts) == 3:
        return parts[1], parts[2]
    return None, None


def level_words(scale: str | None, level: int | None) -> str:
    """「レベル2」, 「脅威度2」 (大崎), or "" when there is no level (a type without a level table)."""
    if level is None:
        return ""
    return f"脅威度{level}" if scale == "threat" else f"レベル{level}"


# What the desk draws around the choices has no character of ambiguous East Asian width (issue 15:
# one cell for Textual, two in a Japanese terminal font): Textual's ● ▌ ▼ ▲ are replaced here.
# A choice made is seen without colours too: (*) [X], not made ( ) [ ].
def _plain_button(button: ToggleButton) -> Content:
    return Content.assemble(button.BUTTON_LEFT,
                            (button.BUTTON_INNER if button.value else " ", button.get_visual_style("toggle--button")),
                            button.BUTTON_RIGHT)


class Choice(RadioButton):
    BUTTON_LEFT, BUTTON_INNER, BUTTON_RIGHT = "(", "*", ")"

    @property
    def _button(self) -> Content:
        return _plain_button(self)


class DeskCheckbox(Checkbox):
    BUTTON_LEFT, BUTTON_INNER, BUTTON_RIGHT = "[", "X", "]"

    @property
    def _button(self) -> Content:
        return _plain_button(self)


class DeskSelect(LazySelect):
    """The triage's dropdowns: their lists are built when first opened (screens/select.py); the
    arrows are v / ^ (▼ ▲ are ambiguous-width: screens/chrome.py draws every Select's so)."""


class ExampleList(SelectionList):
    """A SelectionList drawn with [ ] / [X] (Textual draws its box with ▌, ambiguous-width). An
    option is one line (Textual's Selection keeps only the first line of a prompt): a long one is
    cut at the list's width with "...", and the screen shows the one under the cursor whole."""

    @property
    def entry_name(self) -> str:
        """What an option is called where typing finds one (screens/typed.py)."""
        return "確認事項" if self.id == "fault_checks" else "事例"

    def add_texts(self, items: list[tuple[str, str, bool]]) -> None:
        """Options of (text, value, ticked)."""
        self._texts = [text for text, _value, _ticked in items]
        width = self._cut_width()
        self.add_options([(Text(cut(text, width)), value, ticked) for text, value, ticked in items])

    def text_at(self, index: int) -> str:
        texts = getattr(self, "_texts", [])
        return texts[index] if 0 <= index < len(texts) else ""

    def _cut_width(self) -> int:
        width = self.content_size.width or (self.app.size.width - 6)
        return max(10, width - 5)  # "[X] " and a cell for the scroll bar

    def on_resize(self) -> None:
        width = self._cut_width()
        if getattr(self, "_cut_at", None) == width:
            return
        self._cut_at = width
        for index, text in enumerate(getattr(self, "_texts", [])[:self.option_count]):
            self.replace_option_prompt_at_index(index, Text(cut(text, width)))

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        for i, seg in enumerate(segments[:6]):
            if seg.text == ToggleButton.BUTTON_LEFT and i + 2 < len(segments) \
                    and segments[i + 2].text == ToggleButton.BUTTON_RIGHT:
                index = (seg.style.meta if seg.style else {}).get("option")
                ticked = index is not None and self.get_option_at_index(index).value in self._selected
                inner = segments[i + 1]
                segments[i:i + 3] = [Segment("[", None), Segment("X" if ticked else " ", inner.style),
                                     Segment("]", None)]
                return Strip(segments, strip.cell_length)
        return strip


class GuidedRadioSet(RadioSet):
    """One step's choices. The cursor starts on the choice already made (a default such as
    確認中 included); Space/Enter (the screen's priority keys, see TriageScreen.action_choose)
    choose the one under the cursor, or confirm it when it is the choice made, and move on."""

    class Highlighted(Message):
        def __init__(self, radio_set: "GuidedRadioSet", button: RadioButton | None) -> None:
            super().__init__()
            self.radio_set = radio_set
            self.button = button

        @property
        def control(self) -> "GuidedRadioSet":
            return self.radio_set

    def on_focus(self) -> None:
        if self.pressed_index >= 0:
            self._selected = self.pressed_index

    def _on_mount(self, event) -> None:  # type: ignore[no-untyped-def]
        self._mounting = True  # (RadioSet's own _on_mount runs after this one: action_next_button)

    def action_next_button(self) -> None:
        """The cursor starts on the choice marked ``-selected`` as it was made (compose: the choice
        made, else the first), not put on the first at mount and moved to the choice made at the
        focus: each move restyled the choices it left and reached (~10 ms of the triage's opening)."""
        if self.__dict__.pop("_mounting", False):
            index = next((i for i, b in enumerate(self._nodes) if b.has_class("-selected")), None)
            if index is not None:
                self.set_reactive(RadioSet._selected, index)
                return
        super().action_next_button()

    def watch__selected(self) -> None:
        super().watch__selected()
        self.post_message(self.Highlighted(self, self.highlighted_button()))

    def highlighted_button(self) -> RadioButton | None:
        buttons = list(self.query(RadioButton))
        index = self._selected
        return buttons[index] if index is not None and index < len(buttons) else None

    def choose(self) -> RadioButton | None:
        """Press the button under the cursor now, not when its message comes round (the keys typed
        next belong to the next step), and say so with ``Changed`` as a press does."""
        button = self.highlighted_button()
        if button is None or button is self._pressed_button:
            return button
        with self.prevent(RadioButton.Changed):
            if self._pressed_button is not None:
                self._pressed_button.value = False
            button.value = True
        self._pressed_button = button
        self.post_message(self.Changed(self, button))
        return button


class LowerForm(Vertical):
    """The form below 3's examples (_lower_part), hidden while it is being built."""

    DEFAULT_CSS = "LowerForm { height: auto; }"


# Keys that act only on the top of the form (1 and 2 and 確認の結果・方法), by the widget focused:
# taken while the rest of the form is still being built (TriageScreen.takes_before_whole).
# Space/Enter on the types is not one of them: choosing a type fills in 3 and the context below.
EARLY_KEYS = {
    "fact": {"up", "down", "left", "right", "space", "enter", "tab"},
    "type": {"up", "down", "left", "right", "shift+tab"},
    "fact_note": {"space", "backspace", "delete", "left", "right", "home", "end", "enter", "tab", "shift+tab"},
}
LOWER_CHUNK = 6  # widgets mounted at a time after the first paint (a key read meanwhile waits for at most one)
FIRST_CHUNK_AFTER = 0.01  # seconds after the first paint


class TriageScreen(DraftedDialog):
    # Every key that moves the focus is a priority binding: it acts when the key is read, so what is
    # typed right after it lands in the next step however fast it comes (tmux, a fast typist), as on
    # the intake. A key that does not apply (Space in a field) goes on to the widget as usual.
    KEYS_SCREEN = "triage"
    # (a modal screen's footer shows only its own keys: F1 and Ctrl+Q are listed here too)
    BINDINGS = bindings("triage") + bindings("app", only=("app.help", "app.quit"))  # screens/commands.py
    DRAFT_WHAT = "トリアージ"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # -short: a 3-line decision panel
    # No focus before on_mount gives it to the fact check: given first to the first focusable
    # (the form's scroll container) and then moved, each move restyled the container's ~100
    # widgets (0.3 s of the screen's opening at 10,000 incidents, bench/intake.py); given to the
    # fact check as the widgets mount (AUTO_FOCUS = "#fact"), the form scrolled before its layout
    AUTO_FOCUS = ""

    def __init__(self, incident_id: str | None, reopen: str | None = None) -> None:
        super().__init__(DraftKey("triage", incident_id, "triage", "triage") if incident_id else None)
        self.incident_id = incident_id
        # No incident: made ahead (CsirtDeskApp.prepare_triage), the whole form at once, unseen, while
        # the dashboard is idle; `t` gives it its incident (open_for) and shows it
        self.ahead = incident_id is None
        self._reopen = reopen  # a dialog over the triage whose draft was chosen on the dashboard (support)
        self._built_for: tuple[str | None, str | None] | None = None  # the type whose examples are shown
        self._ticks: dict[str, set[str]] = {}       # ticked examples by type (kept when the type changes)
        self._checks_for: str | None = None         # the fault type whose check items are shown
        self._checks: dict[str, set[str]] = {}      # ticked check items by fault type
        self._ready = False                         # the whole form is mounted: the panels may be worked out
        self._has_faults = False                    # the profile has fault types: the form has their box (compose)
        self.keys_wait = asyncio.Event()            # set once it is (CsirtDeskApp.on_event holds keys till then)
        self.keys_taken = asyncio.Event()           # first painted: keys for its top act (takes_before_whole)
        self._lower_chunks: list[list[Widget]] = []  # the lower form still to mount (_mount_lower_chunk)
        self._as_opened: dict[str, Any] | None = None  # the top's answers before any key (start_drafts)
        self._offers: bool | None = None            # an unsaved triage of the incident will be offered back
        self._open_at_mount: tuple[str, Any] | None = None  # made ahead, given its incident before it mounted
        self._box: Widget | None = None             # 4's box (not an incident), made when first shown
        self._chunks_made = False                   # the lower form's widgets made (_make_lower_chunks)

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        # The breakpoint class before the widgets mount: set by Textual's first resize, it
        # restyled every widget of the screen a second time as it opened
        height = self.app.size.height
        self.set_class(True, *self._get_breakpoint_classes(height, self.VERTICAL_BREAKPOINTS))
        store = self.app.store
        profile = store.profile
        self._has_faults = bool(profile.fault_types)
        self.incident = None if self.ahead else store.incident(self.incident_id)
        previous = self._previous_answers()
        # No title bar: the heading says what the triage is about (a row more for the form at 80x24,
        # and the bar's ⭘ and the title's — are ambiguous-width).
        yield SteadyStatic("" if self.ahead else self._heading(), id="triage-heading", markup=False)
        status = DraftStatus(id="draft-status")
        status.display = False  # shown when there is something to say (a question, a refused write)
        yield status
        with VerticalScroll(id="triage-form", can_focus=False):  # (Shift+Tab on 1 landed on it: no field)
            # 1 事実確認
            yield Label("1 事実確認 (上下キーで選び Space か Enter で決定)", classes="step-title")
            yield SteadyStatic("" if self.ahead else narrow(self._method_text()), id="fact-method", classes="method",
                               markup=False)
            with GuidedRadioSet(id="fact", compact=True):
                fact = self._fact_choice(previous)
                for value, label in FACT_CHOICES:  # (-selected: the cursor on it, GuidedRadioSet.action_next_button)
                    yield Choice(label, value=value == fact, name=value, classes="-selected" if value == fact else "")
            yield SafeInput(previous.get("fact_check_note", ""), id="fact_note", placeholder="確認の結果・方法 (任意)",
                            compact=True)
            # 2 種別
            yield Label("2 種別", classes="step-title")
            chosen = self._type_choice_name(previous)
            names = [f"type:{t['id']}" for t in profile.incident_types]
            names += [f"excl:{t['id']}:{ex['id']}" for t in profile.incident_types for ex in t.get("exclusions", [])]
            cursor = chosen if chosen in names else names[0] if names else None
            with GuidedRadioSet(id="type", compact=True):
                for t in profile.incident_types:
                    name = f"type:{t['id']}"
                    yield Choice(Text(narrow(t["label"])), name=name, value=name == chosen,
                                 classes="-selected" if name == cursor else "")
                for t in profile.incident_types:
                    for ex in t.get("exclusions", []):
                        name = f"excl:{t['id']}:{ex['id']}"
                        yield Choice(Text(narrow(f"対象外: {ex['label']}")), name=name, value=name == chosen,
                                     classes="-selected" if name == cursor else "")
            yield SteadyStatic("", id="type-def", classes="method", markup=False)
            # 3 レベル
            yield Label("3 レベル (該当する事例を Space で選ぶ。最も高いレベルが提案されます)", classes="step-title")
            yield SteadyStatic("", id="level-criteria", classes="method", markup=False)
            yield ExampleList(id="examples", compact=True)
            yield SteadyStatic("", id="example-detail", classes="method", markup=False)
            with LowerForm(id="triage-lower") as lower:
                if self.ahead:  # nobody waits for this one: built whole
                    yield from self._lower_part()
                else:  # built after the first paint, a few widgets at a time (_build_lower_part)
                    lower.display = False
        # Always in view, always as high: the decision and what it sets in motion (issue 15: it grew
        # from 3 to 7 lines as examples were ticked and hid the list).
        yield SteadyStatic("", id="triage-summary", markup=False)
        yield DeskFooter(at_mount=True)  # its keys as it mounts: one layout fewer (screens/footer.py)

    def _lower_part(self) -> list[Widget]:
        """The form below 3's examples (~50 of its ~80 widgets, below the fold at 80x24 and 120x30):
        mounted just after the screen's first paint, which came ~150 ms sooner without them (issue 15,
        bench/intake.py). Keys read before they are there wait for them (``keys_wait``)."""
        profile = self.app.store.profile
        ctx = profile.context or {}
        classes = ctx.get("asset_classes", {})
        row, label, choices = _row, _label, _choices

        # 障害の種類 and its check items (大崎 4条(2)(3)) only where the profile has fault types: the
        # other profiles never show the box, and its 7 widgets were styled as every triage opened
        fault_box = [Vertical(Label("障害の種類と確認事項", classes="sub-title"),
                              row(label("障害の種類"), DeskSelect(choices(profile.fault_types or []), id="fault_type",
                                                                  prompt="選ぶ", compact=True)),
                              ExampleList(id="fault_checks", compact=True), id="fault-box")] if self._has_faults else []
        return [
            *fault_box,
            Label("重大度を上げる事情", classes="sub-title"),
            row(label("個人情報"), DeskSelect(choices(ctx.get("personal_data", [])), id="personal_data", prompt="未確認",
                                              compact=True),
                label("暗号化"), DeskSelect(YES_NO, id="encrypted", prompt="未確認", compact=True)),
            row(label("ネットワーク区分"), DeskSelect(choices(ctx.get("segments", [])), id="segment", prompt="未確認",
                                                      compact=True)),
            row(*(widget for key, prompt in (("confidentiality", "機密性"), ("integrity", "完全性"),
                                             ("availability", "可用性"))
                  for widget in (label(prompt), DeskSelect(choices(classes.get(key, [])), id=f"ac-{key}",
                                                           prompt="未確認", compact=True)))),
            SteadyStatic("", id="class-criterion", classes="method", markup=False),
            row(DeskCheckbox("外部に向けた攻撃", id="outward_attack", compact=True),
                DeskCheckbox("犯罪の可能性 (警察)", id="crime", compact=True),
                SafeInput(id="stop_hours", placeholder="想定停止時間 (時間)", compact=True, classes="short")),
            row(label("レベルの変更"), DeskSelect([], id="override", prompt="しない", compact=True),
                SafeInput(id="override_reason", placeholder="変更する理由 (変更時は必須)", compact=True)),
        ]

    # 4 レベル0・対象外 (インシデントではない): its box (12 widgets, a quarter of the lower form) is shown
    # only for a decision of level 0 or an exclusion, and made the first time it is (issue 15: every
    # triage styled and mounted it hidden, and one built at `t` took its keys after it). Until then
    # its fields hold what the box opens with (_not_incident_defaults): the draft, the copy kept
    # elsewhere and the record read those.
    def _not_incident_defaults(self) -> dict[str, Any]:
        return {"reported_to": core.report_to_default(self.app.store.profile), "reply_who": "",
                "reply_when": "今", "reply_how": "", "warning": ""}

    def _not_incident_box(self) -> Widget:
        """The box, mounted at the end of the lower form (its place in the focus order) if it is not
        there yet. Its widgets are in the screen when this returns (a focus or a value set at once
        goes to them), mounted in the message loop's next turns as any widget is."""
        if self._box is not None:
            return self._box
        profile = self.app.store.profile
        # each level mounted on its own: children given to a container as it is made are mounted
        # only when its own mount is handled, a turn later, and a key may be read meanwhile
        box = Vertical(id="not-incident-box")
        box.display = False  # (shown by _update when the decision is level 0 or an exclusion)
        self.query_one(LowerForm).mount(box)
        report, reply = Horizontal(classes="row"), Horizontal(classes="row")
        box.mount(Label(f"4 インシデントではない: {self._report_to_label()}への報告と通報者への連絡",
                        classes="step-title", markup=False),
                  report, reply,
                  SteadyStatic("", id="reply_when-preview", classes="preview", markup=False),
                  SafeInput(id="warning", placeholder="職員への注意喚起 (任意)", compact=True))
        default = core.report_to_default(profile) or NO_SELECTION
        reported_to = DeskSelect(_choices(profile.roles), id="reported_to", prompt="選ぶ", compact=True, value=default)
        reported_to.value = default  # (read before its mount: Select takes value= only at its mount)
        report.mount(_label("報告先"), reported_to)
        reply.mount(SafeInput(id="reply_who", placeholder="通報者へ連絡した人", compact=True),
                    SafeInput("今", id="reply_when", placeholder="いつ (例: 今 / 14:30)", compact=True, classes="short"),
                    SafeInput(id="reply_how", placeholder="方法 (電話・メール等)", compact=True))
        self._box = box
        self._reply_preview()
        return box

    def _box_made(self) -> bool:
        return self._box is not None

    def _box_text(self, wid: str) -> str:
        """A text field of the box (reply_who, reply_when, reply_how, warning), made or not."""
        if self._box_made():
            return self.query_one(f"#{wid}", Input).value
        return self._not_incident_defaults()[wid]

    def _reported_to(self) -> Any:
        if self._box_made():
            return _sel(self.query_one("#reported_to", Select))
        return self._not_incident_defaults()["reported_to"]

    def _heading(self) -> str:
        """Two lines: the incident, who reported it and how to call back (so the number need not be
        looked up), the draft's state; then what was reported (cut at the edge)."""
        it = self.incident.intake
        keeper = self.keeper
        saved = (f"  下書き保存 {keeper.written_at}" if keeper is not None and keeper.written_at
                 and not keeper.problem and keeper.ever_written else "")
        rep = it.get("reporter") or {}
        who = " ".join(v for v in (rep.get("name"), rep.get("section"), rep.get("contact")) if v)
        callback = (it.get("callback") or {}).get("number")
        first = (("【訓練】" if self.incident.drill else "") + f"トリアージ {self.incident_id}  受付 {short_time(self.incident.received_at)}{saved}"
                 + (f"  通報者 {who}" if who else "") + (f"  折り返し先 {callback}" if callback else ""))
        what = " ".join(str(it.get("what") or "").split())
        return printable(" ".join(first.split("\n")) + "\n" + what)

    def _fact_default(self) -> str:
        cb = self.incident.intake.get("callback") or {} if self.incident is not None else {}
        return "done" if cb.get("confirmed_at") else "pending"

    def _fact_choice(self, previous: dict[str, Any]) -> str:
        return previous.get("fact_check", self._fact_default())

    def _type_choice_name(self, previous: dict[str, Any]) -> str | None:
        """The type's choice as the previous triage left it (its button's name), or None."""
        profile = self.app.store.profile
        if previous.get("exclusion"):
            return next((f"excl:{t['id']}:{ex['id']}" for t in profile.incident_types
                         for ex in t.get("exclusions", []) if ex["id"] == previous["exclusion"]), None)
        return f"type:{previous['type_id']}" if previous.get("type_id") else None

    def _previous_answers(self) -> dict[str, Any]:
        if self.incident is None:
            return {}
        for record in reversed(self.incident.classifications):
            if isinstance(record.get("answers"), dict):
                return record["answers"]
        return {}

    def _method_text(self) -> str:
        profile = self.app.store.profile
        it = self.incident.intake
        source = it.get("reporter_type")
        if not source:
            return "通報の種類が受付で記録されていません。"
        try:
            src = profile.report_source(source)
        except KeyError:
            return f"通報の種類: {source}"
        cb = it.get("callback") or {}
        done = f"  折り返し確認済み {short_time(cb['confirmed_at'])}" if cb.get("confirmed_at") else ""
        text = f"{src['label']}: {src.get('method', '')}{done}"
        if "上記" in src.get("method", ""):  # 「上記の方法に準じて」: the method it refers to, shown with it
            sources = profile.report_sources
            before = sources[:[s["id"] for s in sources].index(src["id"])]
            above = [s for s in before if bool(s.get("callback")) == bool(src.get("callback"))]
            text += "".join(f"\n（上記の方法: {s['label']}）{s.get('method', '')}" for s in above)
        return text

    def on_mount(self) -> None:
        # What the first paint shows is worked out here, before the first layout (waiting for
        # is_mounted, a second layout of the whole screen came as the screen opened); the rest of
        # the form is mounted right after that paint (_lower_part).
        self.query_one("#triage-form").vertical_scrollbar.renderer = PlainBars
        if self.ahead:  # its incident, its focus and its panels when `t` takes it (open_for)
            for lst in self.query(ExampleList):
                lst.vertical_scrollbar.renderer = PlainBars
            if self._open_at_mount is not None:  # `t` came while it was being built: shown now, first
                self.open_for(*self._open_at_mount)  # laid out with its incident (keys held till then)
            else:
                self.call_later(self._lay_out_unseen)
            return
        fact = self.query_one("#fact", RadioSet).pressed_button
        if not self._previous_answers():  # a new triage: the panel as it will read (a re-triage's once built)
            self.query_one("#triage-summary", Static).update(narrow("\n".join(self.decision_lines(
                core.Triage(fact_check=fact.name if fact is not None else "pending"), None))))
        # at once, not through the message loop as focus() does: the focus set before the first
        # layout is drawn by it (set after it, it repainted the whole screen)
        self.set_focus(self.query_one("#fact", RadioSet), scroll_visible=False)
        self._as_opened = self._top_values()  # before any key: what start_drafts takes as "nothing typed"
        self.call_after_refresh(self._build_lower_part)

    def _top_values(self) -> dict[str, Any]:
        """The draft's values of the top of the form (1, 2, 確認の結果・方法): what keys taken before the
        lower form is there can change (EARLY_KEYS)."""
        fact = self.query_one("#fact", RadioSet).pressed_button
        kind = self.query_one("#type", RadioSet).pressed_button
        return {"fact": [fact.name] if fact is not None else [], "fact_label": str(fact.label) if fact is not None else "",
                "type": [kind.name] if kind is not None else [], "type_label": str(kind.label) if kind is not None else "",
                "fact_note": self.query_one("#fact_note", Input).value}

    async def _build_lower_part(self) -> None:
        """The lower form (_lower_part), after the first paint, in chunks of ~LOWER_CHUNK widgets,
        each mounted in a turn of the screen's own (a key read meanwhile waits for one chunk, not
        for the whole: ~150 ms at 10,000 incidents, 80x24, bench/intake.py), hidden till the last
        (the chunks are laid out once, with the rest). Keys for the top of the form act from the
        first paint (``keys_taken``, takes_before_whole); the others wait for the whole form
        (``keys_wait``) and then act, in the order typed (CsirtDeskApp._on_input_event). Its widgets
        are made with its first chunk: the keys read meanwhile for the top do not wait for that."""
        self.keys_taken.set()
        # the keys read so far for the top go first: the first chunk a moment later (mounted at once,
        # it came before them: ~25 ms of a key typed with `t`, 10,000 incidents, 80x24)
        self.set_timer(FIRST_CHUNK_AFTER, lambda: self.call_after_refresh(self._mount_lower_chunk))

    def _make_lower_chunks(self) -> None:
        """The lower form's widgets (_lower_part), made and cut into chunks of ~LOWER_CHUNK."""
        self._chunks_made = True
        chunk: list[Widget] = []
        size = 0
        for widget in self._lower_part():
            count = _widgets_in(widget)
            if chunk and size + count > LOWER_CHUNK:
                self._lower_chunks.append(chunk)
                chunk, size = [], 0
            chunk.append(widget)
            size += count
        self._lower_chunks.append(chunk)

    async def _mount_lower_chunk(self) -> None:
        """One chunk of the lower form; the next one after the screen's next refresh (which draws what
        keys taken meanwhile changed); with the last, the whole form is shown and worked out."""
        try:
            if self.is_attached and not self._chunks_made:
                self._make_lower_chunks()
            if not self.is_attached or not self._lower_chunks:
                self.keys_wait.set()
                return
            lower = self.query_one(LowerForm)
            await lower.mount_all(self._lower_chunks[0])
            del self._lower_chunks[0]
            if self._lower_chunks:
                self.call_after_refresh(self._mount_lower_chunk)
                return
            with self.app.batch_update():  # drawn once, with its panels worked out
                self._mounting_after_paint = True  # laid out as a first layout is (screens/opening.py)
                lower.display = True
                for lst in self.query(ExampleList):
                    lst.vertical_scrollbar.renderer = PlainBars
                self._form_whole()
        except BaseException:
            self.keys_wait.set()
            raise
        # the keys held meanwhile go on, in the order typed, once the layout that places the lower
        # form is drawn (as the step form's: screens/form.py, _build_lower_fields)
        self.call_after_refresh(self.keys_wait.set)

    def _in_hidden_lower(self, widget: Any) -> bool:
        """``widget`` is the lower form, or in it, while it is hidden being built."""
        return bool(self._lower_chunks) and (isinstance(widget, LowerForm)
                                             or any(isinstance(a, LowerForm) for a in widget.ancestors))

    def _on_layout(self, message) -> None:  # type: ignore[no-untyped-def]
        """A layout or a repaint asked by the lower form, or from within it, while it is hidden being
        built (each chunk's mount asks both): it has no place on screen yet, and it is laid out and
        drawn with the last chunk. Done, each chunk cost a layout and a draw of the screen (~20 ms at
        80x24, 10,000 incidents)."""
        if self._in_hidden_lower(message.widget):
            message.stop()
            message.prevent_default()  # (StyledAtMount's and Screen's handlers not run)

    _on_update = _on_layout

    async def key_ready(self, event: events.Event) -> None:
        """A key (or a paste) read before the whole form is there (CsirtDeskApp._on_input_event holds
        it, and the keys read after it, till this returns): one for the top of the form acts from
        the first paint (takes_before_whole), any other once the whole form is there."""
        await self.keys_taken.wait()
        if not self.takes_before_whole(event):
            await self.keys_wait.wait()

    def takes_before_whole(self, event: events.Event) -> bool:
        """``event`` acts only on the top of the form (EARLY_KEYS, on the focus now; text typed on 1
        or 2 goes to 確認の結果・方法), no unsaved triage is to be offered back (its offer fills in
        those fields: start_drafts) and no dialog is to be opened over it (reopen)."""
        if self._reopen or self.app.screen is not self:
            return False
        wid = getattr(self.focused, "id", None)
        if wid not in EARLY_KEYS:
            return False
        if isinstance(event, events.Key):
            from screens.typed import typed_character

            if event.key not in EARLY_KEYS[wid] and typed_character(event) is None:
                return False
        elif not isinstance(event, events.Paste):
            return False
        if self._offers is None:
            try:
                self._offers = bool(dialog_drafts(self.app.store, "triage", self.incident_id, "triage"))
            except (DomainError, OSError):
                self._offers = True  # (start_drafts will say; nothing is taken early)
        return not self._offers

    def start_drafts(self) -> None:
        """The draft's 'nothing typed' is the form as opened: the top of it as it was before any key
        taken while the lower form was being built (what those keys changed is typed, and kept)."""
        super().start_drafts()
        opened = self._as_opened
        self._as_opened = None
        if opened is None or self._initial is None:
            return
        typed = any(self._initial.get(key) != value for key, value in opened.items())
        self._initial.update(opened)
        if typed:
            self._draft_field_changed()

    async def _lay_out_unseen(self) -> None:
        """Laid out for the terminal's size and drawn once, unseen (as the intake made ahead): `t`
        then lays out and draws again only what its incident changed (first laid out when shown,
        every widget was sized and drawn for the first time: ~100 ms at 80x24). Laid out, then
        drawn in a later turn of the event loop: a key that comes meanwhile waits for one of the
        two (~40 ms each at 80x24), not for both."""
        if self.is_current or not self.is_attached or not self.ahead:
            return
        self._refresh_layout(self.app.size)
        await asyncio.sleep(0)  # (a message posted with call_later came in the same turn)
        if self.is_current or not self.is_attached or not self.ahead:
            return
        self._compositor.render_update(full=True)

    def open_at_mount(self, incident_id: str, incident: Any) -> None:
        """Pushed while still being built (`t` came meanwhile): takes ``incident_id`` as it mounts."""
        self._open_at_mount = (incident_id, incident)

    def open_for(self, incident_id: str, incident: Any = None) -> None:
        """The triage made ahead takes ``incident_id`` as `t` is pressed: what compose and the
        mount after the first paint do for one built then (bench/intake.py: the form took keys
        ~300 ms after `t` at 10,000 incidents, most of it styling its ~80 widgets). Raises
        DomainError for an incident that is not there (nothing changed then)."""
        self.incident = incident if incident is not None else self.app.store.incident(incident_id)
        self.incident_id = incident_id
        self.draft_key = DraftKey("triage", incident_id, "triage", "triage")
        self.ahead = False
        # the terminal may have been resized since it was made: its breakpoint as compose sets it
        height = self.app.size.height
        now = set(self._get_breakpoint_classes(height, self.VERTICAL_BREAKPOINTS))
        self.update_classes({name: name in now for _, name in self.VERTICAL_BREAKPOINTS}, animate=False)
        previous = self._previous_answers()
        self.query_one("#triage-heading", Static).update(self._heading())
        self.query_one("#fact-method", Static).update(narrow(self._method_text()))
        self._press_quietly("fact", self._fact_choice(previous))
        self._press_quietly("type", self._type_choice_name(previous))
        note = self.query_one("#fact_note", Input)
        with note.prevent(Input.Changed):
            note.value = previous.get("fact_check_note", "")
        self._form_whole()
        self.set_focus(self.query_one("#fact", RadioSet), scroll_visible=False)
        self.keys_taken.set()
        self.keys_wait.set()

    def _press_quietly(self, wid: str, name: str | None) -> None:
        """The choice ``name`` pressed (None: none) as compose would have made it: no Changed
        (its handlers would move the focus on, as if the operator had chosen it)."""
        radio = self.query_one(f"#{wid}", GuidedRadioSet)
        pressed = None
        with radio.prevent(RadioButton.Changed, RadioSet.Changed):
            for button in radio.query(RadioButton):
                if button.value != (button.name == name):
                    button.value = button.name == name
                if button.value and pressed is None:
                    pressed = button
        radio._pressed_button = pressed

    def _form_whole(self) -> None:
        """The whole form is there: the previous answers back, the panels worked out, drafts on."""
        self._ready = True
        prev = self._previous_answers()
        if prev:
            self._restore(prev)
        self._type_changed()
        self._reply_preview()
        self._update()
        self.start_drafts()  # what is on screen now is "nothing typed"; an unsaved triage is offered
        if self._reopen == "support":  # the support request's form offers its draft back
            self.call_after_refresh(self.action_support)

    def _restore(self, prev: dict[str, Any]) -> None:
        ctx = prev.get("context") or {}
        for wid, value in (("personal_data", ctx.get("personal_data")), ("segment", ctx.get("segment")),
                           ("encrypted", {True: "yes", False: "no"}.get(ctx.get("encrypted"))),
                           *((f"ac-{k}", v) for k, v in (ctx.get("asset_classes") or {}).items())):
            if value:
                try:
                    self.query_one(f"#{wid}", Select).value = value
                except Exception:
                    pass
        self.query_one("#outward_attack", Checkbox).value = bool(ctx.get("outward_attack"))
        self.query_one("#crime", Checkbox).value = bool(ctx.get("crime"))
        if ctx.get("stop_hours") is not None:
            self.query_one("#stop_hours", Input).value = str(ctx["stop_hours"])
        if prev.get("type_id"):
            self._ticks[prev["type_id"]] = set(prev.get("ticked") or [])
        if prev.get("fault_type"):
            self._checks[prev["fault_type"]] = set(prev.get("fault_checks") or [])
            self._set_select("fault_type", prev["fault_type"])

    def _set_select(self, wid: str, value: Any) -> None:
        try:
            self.query_one(f"#{wid}", Select).value = NO_SELECTION if value is None else value
        except Exception:  # an id the profile no longer offers: the rest still comes back
            pass

    # ------------------------------------------------------------ the draft (DraftedDialog)
    def _press(self, wid: str, names: Any) -> None:
        for button in self.query_one(f"#{wid}", RadioSet).query(RadioButton):
            if isinstance(names, list) and button.name in names:
                button.value = True

    def draft_values(self) -> dict[str, Any]:
        fact = self.query_one("#fact", RadioSet).pressed_button
        kind = self.query_one("#type", RadioSet).pressed_button
        values: dict[str, Any] = {  # a choice as [its name] and its label (what the lists show)
            "fact": [fact.name] if fact is not None else [],
            "fact_label": str(fact.label) if fact is not None else "",
            "type": [kind.name] if kind is not None else [],
            "type_label": str(kind.label) if kind is not None else "",
            "ticked": sorted(self.query_one("#examples", SelectionList).selected),
            "fault_type": _sel(self.query_one("#fault_type", Select)) if self._has_faults else None,
            "fault_checks": sorted(self.query_one("#fault_checks", SelectionList).selected) if self._has_faults else [],
        }
        values.update((wid, _sel(self.query_one(f"#{wid}", Select))) for wid in SELECTS if wid != "reported_to")
        values["reported_to"] = self._reported_to()
        values.update((wid, self.query_one(f"#{wid}", Checkbox).value) for wid in CHECKS)
        values.update((wid, self._box_text(wid) if wid in NOT_INCIDENT_FIELDS else self.query_one(f"#{wid}", Input).value)
                      for wid in TEXTS)
        return values

    def load_draft_values(self, values: dict[str, Any]) -> None:
        self._press("fact", values.get("fact"))
        self._press("type", values.get("type"))  # the set takes it in when its message comes round
        type_id, exclusion = _type_of((values.get("type") or [None])[0])
        if type_id and not exclusion:
            self._ticks[type_id] = set(values.get("ticked") or [])
        if values.get("fault_type"):
            self._checks[values["fault_type"]] = set(values.get("fault_checks") or [])
        self._build_for(type_id, exclusion)  # its examples and level choices now, ticked as they were
        defaults = self._not_incident_defaults()
        if any(wid in values and values[wid] != defaults[wid] for wid in NOT_INCIDENT_FIELDS):
            self._not_incident_box()  # (what was typed in it comes back into it; else it is made when shown)
        for wid in (*SELECTS, "fault_type"):
            if wid not in NOT_INCIDENT_FIELDS or self._box_made():
                self._set_select(wid, values.get(wid))
        for wid in CHECKS:
            self.query_one(f"#{wid}", Checkbox).value = bool(values.get(wid))
        for wid in TEXTS:
            if isinstance(values.get(wid), str) and (wid not in NOT_INCIDENT_FIELDS or self._box_made()):
                self.query_one(f"#{wid}", Input).value = values[wid]
        self._reply_preview()
        self._update()

    def draft_fields(self) -> list[tuple[str, Any]]:
        """Every answer under its label, as the operator sees it (the copy kept elsewhere)."""
        def label(wid: str) -> str:
            if wid == "reported_to" and not self._box_made():  # (what the box opens with)
                role = self._reported_to()
                return narrow(self.app.store.profile.role(role)["label"]) if role else ""
            widget = self.query_one(f"#{wid}", Select)
            return option_label(widget)

        fact = self.query_one("#fact", RadioSet).pressed_button
        kind = self.query_one("#type", RadioSet).pressed_button
        examples = self.query_one("#examples", SelectionList)
        ticked = [str(examples.get_option(key).prompt) for key in examples.selected]
        out: list[tuple[str, Any]] = [
            ("事実確認", str(fact.label) if fact is not None else ""),
            ("確認の結果・方法", self.query_one("#fact_note", Input).value),
            ("種別", str(kind.label) if kind is not None else ""),
            ("該当する事例", "\n".join(ticked)),
        ]
        if self._fault_box_shown():
            checks = self.query_one("#fault_checks", SelectionList)
            out += [("障害の種類", label("fault_type")), ("確認した事項", "\n".join(map(str, checks.selected)))]
        names = {"personal_data": "個人情報", "encrypted": "暗号化", "segment": "ネットワーク区分",
                 "ac-confidentiality": "機密性", "ac-integrity": "完全性", "ac-availability": "可用性",
                 "override": "レベルの変更", "reported_to": "報告先"}
        out += [(names[wid], label(wid)) for wid in SELECTS if wid != "reported_to"]
        out += [("外部に向けた攻撃", self.query_one("#outward_attack", Checkbox).value),
                ("犯罪の可能性", self.query_one("#crime", Checkbox).value)]
        texts = {"stop_hours": "想定停止時間 (時間)", "override_reason": "変更する理由", "reply_who": "通報者へ連絡した人",
                 "reply_when": "いつ", "reply_how": "方法", "warning": "職員への注意喚起"}
        out += [(texts["stop_hours"], self.query_one("#stop_hours", Input).value),
                (texts["override_reason"], self.query_one("#override_reason", Input).value),
                (names["reported_to"], label("reported_to"))]
        out += [(texts[wid], self._box_text(wid)) for wid in ("reply_who", "reply_when", "reply_how", "warning")]
        return out

    def draft_title(self) -> str:
        return f"トリアージ ({self.incident_id})"

    def draft_time_keys(self) -> tuple[str, ...]:
        return ("reply_when",)

    def show_draft_state(self) -> None:
        super().show_draft_state()
        keeper = self.keeper
        if keeper is not None and self._esc_at is None and not keeper.problem and not self.store_wait.line:
            self.query_one(DraftStatus).say("")  # all is well: said in the heading, not on a row of its own
        self.query_one("#triage-heading", Static).update(self._heading())

    @on(RadioSet.Changed)
    @on(SelectionList.SelectedChanged)
    def _choice_changed(self) -> None:
        self._draft_field_changed()  # the dialog's handler takes Input, Select and Checkbox changes

    # ------------------------------------------------------------ reading the form
    def _type_choice(self) -> tuple[str | None, str | None]:
        button = self.query_one("#type", RadioSet).pressed_button
        return _type_of(button.name if button is not None else None)

    def answers(self) -> core.Triage:
        fact = self.query_one("#fact", RadioSet).pressed_button
        type_id, exclusion = self._type_choice()
        enc = _sel(self.query_one("#encrypted", Select))
        try:
            stop_hours = core.parse_stop_hours(self.query_one("#stop_hours", Input).value)
        except DomainError:  # not read as a duration: the record is refused until it is (missing)
            stop_hours = None
        classes = {k: _sel(self.query_one(f"#ac-{k}", Select)) for k in ("confidentiality", "integrity", "availability")}
        context = core.TriageContext(
            personal_data=_sel(self.query_one("#personal_data", Select)),
            encrypted={"yes": True, "no": False}.get(enc),
            segment=_sel(self.query_one("#segment", Select)),
            asset_classes={k: v for k, v in classes.items() if v},
            outward_attack=self.query_one("#outward_attack", Checkbox).value,
            crime=self.query_one("#crime", Checkbox).value,
            stop_hours=stop_hours,
        )
        override = _sel(self.query_one("#override", Select))
        # The fault type and its checks only while their box is on screen: a value left in the hidden
        # control (a 障害 re-triaged as 不正行為) is not an answer (issue 15).
        faults = bool(core.fault_options(self.app.store.profile, type_id)) and not exclusion
        fault_type = _sel(self.query_one("#fault_type", Select)) if faults else None
        return core.Triage(
            fact_check=fact.name if fact is not None else "pending",
            fact_check_note=self.query_one("#fact_note", Input).value,
            type_id=type_id,
            exclusion=exclusion,
            ticked=list(self.query_one("#examples", SelectionList).selected),
            fault_type=fault_type,
            fault_checks=list(self.query_one("#fault_checks", SelectionList).selected) if fault_type else [],
            context=context,
            level_override=int(override) if override is not None else None,
            override_reason=self.query_one("#override_reason", Input).value,
        )

    # ------------------------------------------------------------ live updates
    def _overlay_open(self) -> bool:
        return any(getattr(sel, "expanded", False) for sel in self.query(Select))

    def action_move(self, step: int) -> None:
        if self._overlay_open() or not isinstance(self.app.screen, TriageScreen):
            raise SkipAction()
        if step > 0:
            self.focus_next()
        else:
            self.focus_previous()

    def action_enter_key(self) -> None:
        """Enter: a step's choice (as Space), or on from a one-line field to the next field."""
        if isinstance(self.focused, Input) and not self._overlay_open():
            self.focus_next()
            return
        self.action_choose()

    def action_cursor(self, where: str) -> None:
        """The cursor of a step's choices or of a list of examples, moved when the key is read (so a
        Space or a Ctrl+S right after it acts on the row the operator moved to)."""
        focused = self.focused
        if isinstance(focused, GuidedRadioSet) and where in ("down", "up"):
            (focused.action_next_button if where == "down" else focused.action_previous_button)()
        elif isinstance(focused, SelectionList):
            getattr(focused, "action_cursor_" + where if where in ("down", "up") else "action_" + where)()
        else:
            raise SkipAction()

    def action_choose(self) -> None:
        """Space/Enter on a step's choices: the one under the cursor is the answer (chosen, or the
        choice already made confirmed: 確認中 pre-selected too), and the next step has the focus.
        Space on a list of examples or a checkbox ticks it at once (a Ctrl+S right after sees it)."""
        focused = self.focused
        if isinstance(focused, SelectionList) and focused.highlighted is not None:
            focused.toggle(focused.get_option_at_index(focused.highlighted).value)
            return
        if isinstance(focused, Checkbox):
            focused.toggle()
            return
        if not isinstance(focused, GuidedRadioSet) or focused.highlighted_button() is None:
            raise SkipAction()
        focused.choose()
        if focused.id == "fact":
            self.set_focus(self.query_one("#type", RadioSet))
        else:
            self._type_changed()  # its examples now: the next keys tick them
            self._step_after_type()

    def text_field_for(self, focused) -> Input | None:  # type: ignore[no-untyped-def]
        """Where text typed on ``focused`` goes (CsirtDeskApp.on_event, as the key is read): on the
        choices of 1 and 2 it is the fact check's result, 確認の結果・方法. Confirming the fact
        check moves the focus to the types, a radio set, which takes no text: 「電話で再確認」
        typed right after the Space was dropped (and a Space in it chose a type)."""
        if isinstance(focused, GuidedRadioSet) and focused.id in ("fact", "type"):
            return self.query_one("#fact_note", Input)
        return None

    @on(RadioSet.Changed, "#fact")
    def _fact_chosen(self, event) -> None:
        if event.radio_set.has_focus:  # chosen another way (the mouse): on to the next step all the same
            self.query_one("#type", RadioSet).focus()

    @on(GuidedRadioSet.Highlighted, "#type")
    def _type_highlighted(self, event: GuidedRadioSet.Highlighted) -> None:
        """What the type under the cursor covers, while choosing it (issue 15)."""
        if event.radio_set.has_focus and event.button is not None:
            self.query_one("#type-def", Static).update(narrow(self._type_text(*_type_of(event.button.name))))

    def on_descendant_blur(self, event) -> None:
        wid = getattr(event.widget, "id", None) or ""
        if wid == "type":  # back to what the chosen type covers
            self.query_one("#type-def", Static).update(narrow(self._type_text(*self._type_choice())))
        elif wid.startswith("ac-"):
            self._show_classes()

    @on(SelectionList.SelectionHighlighted, "#examples")
    def _example_highlighted(self) -> None:
        self._show_example()

    def _show_example(self) -> None:
        """The example under the cursor whole, with its level's criterion and what the level means
        (the 脅威度 texts, long, are shown here, under the list, rather than above it)."""
        examples = self.query_one("#examples", SelectionList)
        detail = self.query_one("#example-detail", Static)
        index = examples.highlighted
        type_id, exclusion = self._built_for or (None, None)
        if index is None or not examples.option_count or exclusion:
            detail.update("")
            return
        key = examples.get_option_at_index(index).value
        found = next(((lv, text, group) for k, lv, text, group in core.level_examples(self.app.store.profile, type_id)
                      if k == key), None)
        if found is None:
            detail.update("")
            return
        level, text, group = found
        table = self.app.store.profile.level_table_for(type_id) or {"levels": []}
        entry = next((e for e in table["levels"] if e["level"] == level), {})
        detail.update(narrow(f"事例：{'(' + group + ') ' if group else ''}{text}\n"
                             f"{entry.get('label', level)}: {entry.get('criterion', '')}"
                             + (f"  {entry['consequence']}" if entry.get("consequence") else "")))

    def on_descendant_focus(self, event) -> None:
        widget = event.widget
        wid = getattr(widget, "id", None) or ""
        if wid == "examples":  # the whole list in view, its top at the top: the cursor row is always seen
            self._fit_examples()
            form = self.query_one("#triage-form", VerticalScroll)
            self.call_after_refresh(form.scroll_to_widget, widget, top=True, animate=False)
        if wid.startswith("ac-"):
            self._show_classes(wid)

    def _fit_examples(self) -> None:
        form = self.query_one("#triage-form", VerticalScroll)
        height = form.scrollable_content_region.height
        examples = self.query_one("#examples", SelectionList)
        if height > 0 and examples.option_count:
            # the list and the detail under it (its level and the whole example, up to 4 lines) in view;
            # an empty list (no type chosen yet, as the triage opens) is fitted when a type fills it:
            # fitted as the screen opened, it cost a layout of the whole form
            fit = max(3, height - 4)
            current = examples.styles.max_height
            if current is None or current.cells != fit:
                examples.styles.max_height = fit

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_examples)

    def _show_classes(self, focused: str | None = None) -> None:
        """The criteria of the asset classes (水戸 3(1)): all of the kind being chosen, else those chosen."""
        classes = (self.app.store.profile.context or {}).get("asset_classes", {})
        lines = []
        for key in ("confidentiality", "integrity", "availability"):
            chosen = _sel(self.query_one(f"#ac-{key}", Select))
            for c in classes.get(key, []):
                if focused == f"ac-{key}" or (focused is None and c["id"] == chosen):
                    lines.append(f"{c['label']}: {c.get('criterion', '')}")
        self.query_one("#class-criterion", Static).update(narrow("\n".join(lines)))

    @on(RadioSet.Changed, "#type")
    def _type_changed(self, event=None) -> None:
        if not self._ready:  # (a re-triage's type, pressed as it mounts: worked out once the form is whole)
            return
        choice = self._type_choice()
        if choice != self._built_for:
            self._build_for(*choice)
        self._update()
        if event is not None and event.radio_set.has_focus:
            self._step_after_type()

    def _step_after_type(self) -> None:
        _type_id, exclusion = self._type_choice()
        nxt = self.query_one("#examples", SelectionList)
        if exclusion:
            self._not_incident_box()  # (made by _update as it is shown)
            nxt = self.query_one("#reply_who", Input)
            # shown just now, it has no place yet for the focus to scroll to (at 80x24 the name was
            # typed below the screen's edge): scrolled into view once the box is laid out
            self.call_after_refresh(nxt.scroll_visible, animate=False)
        elif not nxt.option_count:  # no level table: its fault type if it has them, else the context
            nxt = self.query_one("#fault_type" if self._fault_box_shown() else "#personal_data", Select)
        self.set_focus(nxt)

    def _build_for(self, type_id: str | None, exclusion: str | None) -> None:
        """The examples, level choices and fault box of the type chosen; the examples ticked
        for another type are kept for it (chosen again, they come back)."""
        profile = self.app.store.profile
        definition = self.query_one("#type-def", Static)
        examples = self.query_one("#examples", SelectionList)
        override = self.query_one("#override", Select)
        if self._built_for is not None and self._built_for[0] and not self._built_for[1]:
            self._ticks[self._built_for[0]] = set(examples.selected)
        self._built_for = (type_id, exclusion)
        examples.clear_options()
        definition.update(narrow(self._type_text(type_id, exclusion)))
        if type_id is None:
            override.set_options([])
        else:
            table = profile.level_table_for(type_id)
            if table and not exclusion:
                # one line a level; what a level means at length is shown with the example under the cursor
                criteria = [narrow(f"L{lv['level']} = {lv['label']}: {lv['criterion']}") for lv in table["levels"]]
                self.query_one("#level-criteria", Static).update("\n".join(criteria))
                ticked = self._ticks.get(type_id, set())
                examples.add_texts([(narrow(f"L{level} " + (f"({group}) " if group else "") + text), key, key in ticked)
                                    for key, level, text, group in core.level_examples(profile, type_id)])
                override.set_options([(Text(narrow(lv["label"])), lv["level"]) for lv in table["levels"]])
                examples.highlighted = 0  # the first Space acts on the first row
                self._show_example()
                self.call_after_refresh(self._fit_examples)
            else:
                self.query_one("#level-criteria", Static).update(
                    "" if exclusion else "この種別にはレベル表がありません。")
                override.set_options([])
        if self._has_faults:
            self.query_one("#fault-box").display = bool(core.fault_options(profile, type_id)) and not exclusion

    def _fault_box_shown(self) -> bool:
        return self._has_faults and bool(self.query_one("#fault-box").display)

    def _type_text(self, type_id: str | None, exclusion: str | None) -> str:
        if type_id is None:
            return "種別を選んでください (上下キーで移動、Space か Enter で決定)。"
        t = self.app.store.profile.incident_type(type_id)
        if exclusion:
            ex = next(e for e in t.get("exclusions", []) if e["id"] == exclusion)
            return f"対象外：{ex.get('text', ex['label'])} CSIRT では扱いません。"
        return f"{t['label']}: {t.get('definition', '')}"

    @on(Select.Changed, "#fault_type")
    def _fault_changed(self) -> None:
        profile = self.app.store.profile
        checks = self.query_one("#fault_checks", SelectionList)
        fault = _sel(self.query_one("#fault_type", Select))
        if fault == self._checks_for:
            return
        if self._checks_for is not None:
            self._checks[self._checks_for] = set(checks.selected)
        self._checks_for = fault
        checks.clear_options()
        ticked = self._checks.get(fault, set())
        for f in profile.fault_types or []:
            if f["id"] == fault:
                checks.add_texts([(narrow(item), item, item in ticked) for item in f.get("checks", [])])
        self._update()

    @on(RadioSet.Changed, "#fact")
    @on(SelectionList.SelectedChanged)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(Input.Changed)
    def _changed(self, event=None) -> None:
        if isinstance(event, Input.Changed) and event.input.id == "reply_when":
            self._reply_preview()
        self._update()

    def _reply_preview(self) -> None:
        if not self._box_made():  # (worked out as the box is made)
            return
        text = self.query_one("#reply_when", Input).value
        target = self.query_one("#reply_when-preview", Static)
        try:
            target.update("日時: " + format_preview(parse_time(text, self.app.now())) if text.strip() else "")
        except TimeParseError as err:
            target.update("✘ " + one_line(str(err)))

    def _update(self) -> None:
        if not self._ready:  # (a choice's first Changed, sent as it mounts, comes after on_mount)
            return
        t = self.answers()
        a = core.assess(self.app.store.profile, t)
        self.query_one("#triage-summary", Static).update(narrow("\n".join(self.decision_lines(t, a))))
        shown = bool(t.type_id) and a.is_incident is False
        if shown or self._box_made():
            self._not_incident_box().display = shown

    def decision_lines(self, t: core.Triage, a: core.Assessment) -> list[str]:
        """The decision panel, most important first, one line each (the panel shows as many as fit:
        3 at 80x24, 6 from 30 rows; a line is cut at the edge, never wrapped)."""
        fact = "事実確認: " + dict(FACT_CHOICES).get(t.fact_check, t.fact_check)
        if t.type_id is None:
            return [f"種別がまだ選ばれていません。   {fact}"]
        if t.exclusion:
            return [f"対象外: CSIRT では扱いません (記録して閉じます)。   {fact}",
                    "通報者への連絡を 4 の欄に記録してください (任意)。"]
        scale = "脅威度" if a.scale == "threat" else "レベル"
        head = []
        if a.scale is not None:
            if a.level is None:
                head.append(f"{scale}: 未決定")
            elif t.level_override is not None and t.level_override != a.suggested_level:
                suggested = "なし" if a.suggested_level is None else str(a.suggested_level)
                head.append(f"{scale}: {a.level} (変更。事例からの提案 {suggested})")
            else:
                head.append(f"{scale}: {a.level} (事例から)")
        if a.is_incident:
            head.append(f"インシデント  優先度 {a.priority}")
        elif a.is_incident is False:
            head.append("インシデントではない: 報告・連絡して閉じる (4 の欄)")
        head.append(fact)
        lines = ["   ".join(head)]
        lines.extend(f"⚠ {p}" for p in a.problems)
        try:
            core.parse_stop_hours(self.query_one("#stop_hours", Input).value)
        except DomainError as err:  # said as it is typed, not only at Ctrl+S
            lines.append(f"⚠ {err}")
        if a.is_incident:
            lines.append("優先度の理由: " + (" / ".join(a.priority_reasons) or "なし"))
            lines.append(("通知する先【訓練: 外部の機関には実際に連絡しない】: " if self.incident.drill else "通知する先: ")
                         + ("、".join(p["label"] for p, _rule in a.parties) or "なし"))
            lines.append("初動の手順: " + ("、".join(st["label"] for _ph, st in a.steps) or "なし"))
        return lines

    # ------------------------------------------------------------ actions
    def missing(self, t: core.Triage, a: core.Assessment) -> list[tuple[str | None, str]]:
        """What keeps the triage from being recorded: (the field to fill, what to do), in the
        order of the screen; only what is missing (an answer given is not named)."""
        out: list[tuple[str | None, str]] = []
        if t.type_id is None:
            return [("type", "種別を選んでください")]
        fields = {core.OVERRIDE_REASON_MESSAGE: "override_reason", core.DECISION_REASON_MESSAGE: "override_reason"}
        for problem in a.problems:
            if problem.startswith("該当する事例にチェック"):
                out.append(("examples", "該当する事例を選ぶか、レベルを指定してください"))
            else:
                out.append((fields.get(problem, "fault_type" if "障害の種類" in problem else None), problem))
        if not a.problems and a.is_incident is None:
            out.append(("examples", "該当する事例を選ぶか、レベルを指定してください"))
        try:
            core.parse_stop_hours(self.query_one("#stop_hours", Input).value)
        except DomainError as err:  # typed but not a duration (「三時間くらい」): not dropped silently
            out.append(("stop_hours", str(err)))
        if a.is_incident is False and not a.excluded:
            reply = self._reply()
            if not self._reported_to():
                out.append(("reported_to", f"報告先 ({self._report_to_label()}) を選んでください"))
            if not reply["who"].strip():
                out.append(("reply_who", "通報者へ連絡した人を入力してください"))
            if not reply["when"].strip():
                out.append(("reply_when", "通報者へ連絡した日時を入力してください"))
            else:
                try:
                    parse_time(reply["when"], self.app.now())
                except TimeParseError as err:
                    out.append(("reply_when", f"通報者へ連絡した日時: {one_line(str(err))}"))
            if not reply["how"].strip():
                out.append(("reply_how", "通報者へ連絡した方法 (電話・メール等) を入力してください"))
        return out

    def _report_to_label(self) -> str:
        """The role a not-an-incident decision is reported to, in the profile's own words (つくば
        4(2)②(III) names the CSIRT管理者; 水戸 and 大崎 name their own roles)."""
        profile = self.app.store.profile
        role = core.report_to_default(profile)
        return narrow(profile.role(role)["label"]) if role else "報告先の役割"

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """F5 (支援依頼) only where the profile has the request (つくば): not in the footer elsewhere."""
        if action == "support":
            from csirt_tui.response import support_rule

            return support_rule(self.app.store.profile) is not None
        return True

    def action_support(self) -> None:
        """つくば 4(2)②(I)(II): ask a vendor or an expert for help during triage (log analysis, a
        priority hard to judge): a form, then a 技術的支援依頼 thread on the record."""
        from csirt_tui import response as rs
        from screens.form import Field, FormScreen

        store = self.app.store
        rule = rs.support_rule(store.profile)
        if rule is None:
            self.notify("このプロファイルにはトリアージでの支援依頼の定めがありません", severity="warning", markup=False)
            return
        labels = {r["id"]: r["label"] for r in (*store.profile.roles, *store.profile.outside_bodies)}
        fields = [Field("party", "依頼先", "select", rule["parties"][0],
                        [(labels.get(p, p), p) for p in rule["parties"]], required=True),
                  Field("reason", "理由", "select", rule["reasons"][0]["id"],
                        [(narrow(f"{r['label']}（{r['source']}）"), r["id"]) for r in rule["reasons"]], required=True),
                  Field("note", "依頼の内容 (何を見てほしいか: ログ、機器、判断の材料)", "multiline", required=True),
                  Field("means", "方法 (依頼したとき: 電話・メール)"),
                  Field("person", "相手 (依頼を受けた人。まだなら空欄: 未連絡として一覧に残る)"),
                  Field("when", "いつ", "time", "今")]
        intro = narrow("\n".join(r["text"] for r in rule["reasons"]))

        def save(v):
            rs.request_support(store, self.incident_id, v["party"], operator=self.app.operator, reason=v["reason"],
                               note=v["note"], means=v["means"], person=v["person"], occurred_at=v.get("when_iso"))

        self.app.push_screen(FormScreen("技術的支援依頼（トリアージ）", fields, intro=intro, save=save,
                                        draft=DraftKey("form", self.incident_id, "support", "triage")),
                             lambda v: v and self.notify("技術的支援依頼を記録しました（対応の記録の連絡・通知に入ります）",
                                                         markup=False))

    def action_record(self) -> None:
        self.app.after_keys(self._record)  # the keys read before Ctrl+S are in their fields first

    def _record(self) -> None:
        profile = self.app.store.profile
        t = self.answers()
        a = core.assess(profile, t)
        missing = self.missing(t, a)
        if missing:
            # one such toast at a time (Ctrl+S pressed again: the newest replaces it; three stacked before)
            self._say_unsaved(narrow("\n".join(text for _wid, text in missing)), "まだ記録できません", "error", 8)
            target = next((wid for wid, _text in missing if wid), None)
            if target is not None:
                if target in NOT_INCIDENT_FIELDS:
                    self._not_incident_box()
                widget = self.query_one(f"#{target}")
                widget.focus()
                self.call_after_refresh(widget.scroll_visible, animate=False)
            return
        self.save_to_record(lambda: self._write(t, a), None)

    def _write(self, t: core.Triage, a: core.Assessment) -> None:
        """Put the triage on the record (raises DomainError/OSError when it cannot: the screen stays)."""
        app = self.app
        store = app.store
        if t.exclusion:
            core.exclusion_close(store, self.incident_id, t, operator=app.operator)
            self._record_exclusion_reply(store)
            message = f"{self.incident_id}: 対象外として記録しました"
        elif a.is_incident is False:
            reported_to = self._reported_to()
            # the decision, the report, the reply and the closing in one go (nothing half-recorded)
            core.record_not_incident(store, self.incident_id, operator=app.operator, reported_to=reported_to,
                                     reply=self._reply(), warning=self._box_text("warning"),
                                     triage=t)
            message = f"{self.incident_id}: インシデントではないとして閉じました"
        else:
            core.record_triage(store, self.incident_id, t, operator=app.operator)
            said = "・".join(w for w in (level_words(a.scale, a.level), f"優先度{a.priority}") if w)
            message = f"{self.incident_id}: トリアージを記録しました ({said})"
        app.notify(message, markup=False)

    def _reply(self) -> dict[str, Any]:
        return {"who": self._box_text("reply_who"), "when": self._box_text("reply_when"),
                "how": self._box_text("reply_how")}

    def _record_exclusion_reply(self, store) -> None:
        reply = self._reply()
        if not (reply["who"].strip() or reply["how"].strip()):
            return
        try:
            when = to_iso(parse_time(reply["when"], self.app.now())) if reply["when"].strip() else None
        except TimeParseError:
            when = None
        store.append(self.incident_id, "call",
                     f"通報者への回答: {reply['who']} {reply['how']}: CSIRT の対象外である旨を連絡",
                     operator=self.app.operator, occurred_at=when,
                     data={**reply, "when": when, "when_text": reply["when"], "purpose": "triage_reply"})
