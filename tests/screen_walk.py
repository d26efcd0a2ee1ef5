"""Every screen of the desk, opened on a demo store at a fixed time, and what it draws cell by
cell (issue 15): used by tests/test_chrome_width.py (no ambiguous-width character in what the
desk draws) and tests/test_snapshots.py (the screens at 80x24 and 120x30, as text).

A scene is a name and the steps from the dashboard to its screen, the keys an operator
presses where there is a key, else the screen pushed as the app pushes it.
"""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

from conftest import Clock, wait_until

SIZES = [(120, 30), (80, 24)]
OPERATOR = "試験 操作者"
INCIDENT = "2026-0006"    # demo: 情報システムの停止等, level 2, 復旧 (a full record)
UNTRIAGED = "2026-0011"   # demo: a call cut off, not triaged yet
STORE_MARK = "<STORE>"    # the store's temporary path, as the snapshots show it


@dataclass
class Drawn:
    """One screen as drawn: ``rows`` of (x, character) per line (a wide character once, at
    its first cell), ``user`` the regions that hold what the operator typed (an Input or a
    TextArea with a value), and ``text`` the lines as a string."""

    rows: list[list[tuple[int, str]]]
    user: list  # textual.geometry.Region
    text: str
    screen: str


def ambiguous(text: str) -> list[str]:
    return [ch for ch in text if unicodedata.east_asian_width(ch) == "A"]


# ------------------------------------------------------------------ the scenes
async def _press(pilot, *keys):
    await pilot.press(*keys)
    await pilot.pause()


def _push(make: Callable) -> Callable[..., Awaitable[None]]:
    async def step(app, pilot):
        app.push_screen(make(app))
        await pilot.pause()
    return step


def _keys(*keys: str) -> Callable[..., Awaitable[None]]:
    async def step(app, pilot):
        await _press(pilot, *keys)
    return step


def _then(*steps):
    async def step(app, pilot):
        for s in steps:
            await s(app, pilot)
    return step


def _incident(app):
    from screens.incident import IncidentScreen
    return IncidentScreen(INCIDENT)


def _response(app):
    from screens.response import ResponseScreen
    return ResponseScreen(INCIDENT)


def _timeline(app):
    from screens.timeline import TimelineScreen
    return TimelineScreen(INCIDENT)


def _export(app):
    from screens.export import ExportScreen
    return ExportScreen(INCIDENT)


def _summary(app):
    from screens.export import ExportScreen
    return ExportScreen(None, "summary")


async def _export_password(app, pilot):
    """The export dialog with a password typed (its field draws the desk's marks, not the text)."""
    app.push_screen(_export(app))
    await pilot.pause()
    await _press(pilot, *"himitsu")


def _response_untriaged(app):
    from screens.response import ResponseScreen
    return ResponseScreen(UNTRIAGED)


def _texts(app):
    from screens.export import ReportTextsScreen
    return ReportTextsScreen(INCIDENT)


def _saved(app):
    from screens.intake import SavedScreen
    return SavedScreen(UNTRIAGED, ["found_at", "reporter"])


def _resume(app):
    from screens.resume import ResumeDraftScreen
    app.store.save_draft("20261122-143000", {"what": "電話が切れた", "place": "本庁舎3階"}, operator=OPERATOR)
    return ResumeDraftScreen(app.store.list_drafts())


def _triage(app):
    from screens.triage import TriageScreen
    return TriageScreen(UNTRIAGED)


def _drill_intake(app):
    from csirt_tui.drill import find_scenario
    from screens.intake import IntakeScreen
    return IntakeScreen(drill_scenario=find_scenario(app.store.profile, "mutsu-ransom"))


async def _threat(app, pilot):
    from textual.widgets import OptionList
    lst = app.screen.query_one("#texts-list", OptionList)
    lst.focus()
    lst.highlighted = lst.get_option_index("threat")
    await _press(pilot, "enter")


async def _review(app, pilot):
    app.open_reviews()
    await pilot.pause()


def _bundle(mode: str) -> Callable[..., Awaitable[None]]:
    async def step(app, pilot):
        app.open_bundle(mode)
        await pilot.pause()
        if mode == "export":  # its default file name holds the store's random id and the home folder
            from textual.widgets import Input
            app.screen.query_one("#bundle-path", Input).value = "C:/Users/desk/csirt-desk.bundle"
            await pilot.pause()
    return step


def _open_dropdown(selector: str) -> Callable[..., Awaitable[None]]:
    """The dropdown ``selector`` focused and opened with Down, as the operator opens it (Tab, Down:
    the scene's Tab and Enter once moved on to the next field and left the list closed)."""
    async def step(app, pilot):
        from textual.widgets import Select

        app.screen.query_one(selector, Select).focus()
        await _press(pilot, "down")
        assert await wait_until(pilot, lambda: app.screen.query_one(selector, Select).expanded)
    return step


async def _drill_picker(app, pilot):
    app.start_drill()
    await pilot.pause()


async def _theme_picker(app, pilot):
    app.action_change_theme()
    await pilot.pause()


SCENES: dict[str, Callable] = {
    "dashboard": _keys(),
    "dashboard_all": _keys("a"),
    "help": _keys("f1"),
    "intake": _keys("ctrl+n"),
    "intake_channel": _then(_keys("ctrl+n"), _open_dropdown("#channel")),  # the 受付方法 dropdown open
    "saved": _push(_saved),
    "resume": _push(_resume),
    "resume_discard": _then(_push(_resume), _keys("x")),  # DiscardDraftScreen (discard.py)
    "incident": _push(_incident),
    "incident_call": _then(_push(_incident), _keys("c")),   # PickerScreen (form.py)
    "response": _push(_response),
    "response_untriaged": _push(_response_untriaged),        # its heading before triage: no level yet
    "response_step": _then(_push(_response), _keys("s")),   # FormScreen (form.py)
    "response_parties": _then(_push(_response), _keys("tab")),  # the parties to notify, and why
    "timeline": _push(_timeline),
    "timeline_note": _then(_push(_timeline), _keys("n")),   # NoteScreen
    "roster": _keys("ctrl+r"),
    "export": _push(_export),
    "export_password": _export_password,                    # a password typed: drawn by the desk
    "export_summary": _push(_summary),
    "report_texts": _push(_texts),
    "triage": _push(_triage),
    "poc_card": _keys("f3"),                                # PocCardScreen (poccard.py)
    "drill_picker": _drill_picker,                          # the palette's 訓練を始める (PickerScreen)
    "theme_picker": _theme_picker,                          # the palette's テーマ (Textual's list of themes)
    "drill_intake": _push(_drill_intake),                   # IntakeScreen of a drill scenario
    "drill_mark": _then(_push(_incident), _keys("k")),     # 訓練として記録 (FormScreen)
    "review": _review,                                      # 手順の評価・見直し (screens/review.py)
    "review_add": _then(_review, _keys("a")),               # its FormScreen
    "threat": _then(_push(_texts), _threat),                # 3 原因: 脅威の種類 (PickerScreen)
    "bundle_out": _bundle("export"),                        # BundleScreen (exchange.py)
    "bundle_in": _bundle("import"),
}


# ------------------------------------------------------------------ drawing
def drawn(app) -> Drawn:
    """What the terminal shows now, cell by cell."""
    from rich.cells import cell_len
    from textual.widgets import Input, TextArea

    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    root = str(app.store.root)
    # a field holding a path in the store (the export's 保存先) shows as much of it as fits: the
    # temporary path's length moves the cut, so the snapshot text shows the field as <STORE path>
    paths = [w.content_region for w in app.screen.query(Input) if root in w.value]
    rows, lines = [], []
    for y, line in enumerate(update.strips):
        x, row, text = 0, [], []
        for strip in line:
            for seg in strip:
                if seg.control:
                    continue
                for ch in seg.text:
                    row.append((x, ch))
                    region = next((r for r in paths if r.contains(x, y)), None)
                    if region is None:
                        text.append(ch)
                    elif x == region.x:
                        text.append("<STORE path>".ljust(region.width))
                    x += cell_len(ch)
        rows.append(row)
        lines.append("".join(text).rstrip())
    # what the operator typed, shown as typed; a password field shows the desk's marks instead
    user = [w.content_region for w in app.screen.query(Input) if w.value and not w.password] + \
           [w.content_region for w in app.screen.query(TextArea) if w.text]
    text = "\n".join(lines).replace(str(app.store.root), STORE_MARK)
    return Drawn(rows, user, text, type(app.screen).__name__)


_CACHE: dict[tuple[str, tuple[int, int]], tuple[Drawn, set[str]]] = {}


def store_texts(store) -> set[str]:
    """Every string the operators put in the store (incident records, drafts, the roster): the
    user's own text, which the desk shows as typed (also as the desk shows it: one line)."""
    from csirt_tui.textsafe import one_line, printable

    out: set[str] = set()

    def walk(value):
        if isinstance(value, str):
            out.update({value, printable(value), one_line(value)})
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    for row in store.list_incidents(status=None):
        for entry in store.timeline(row["id"]):
            walk([entry.text, entry.data, entry.operator])
    for draft in store.list_drafts(kind=None):
        walk(draft.get("data"))
    for person in store.list_people(include_removed=True):
        walk(person)
    return out


def open_scene(tmp_path: Path, scene: str, size: tuple[int, int]) -> tuple[Drawn, set[str]]:
    """The screen of ``scene`` at ``size`` on a fresh demo store (cached per scene and size)."""
    key = (scene, size)
    if key in _CACHE:
        return _CACHE[key]
    from csirt_tui.app import CsirtDeskApp
    from csirt_tui.demo import build_demo
    from csirt_tui.store import Store

    clock = Clock()
    store = Store.open(tmp_path / f"store-{scene}-{size[0]}", clock=clock)
    build_demo(store, operator=OPERATOR)

    async def run() -> Drawn:
        app = CsirtDeskApp(store, operator=OPERATOR, clock=clock, backups=False)
        async with app.run_test(size=size) as pilot:
            from screens.dashboard import DashboardScreen

            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            await pilot.pause()
            await SCENES[scene](app, pilot)
            await pilot.pause(0.3)
            app.clear_notifications()
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            return drawn(app)

    result = asyncio.run(run()), store_texts(store)
    _CACHE[key] = result
    return result
