"""A wide character of a toast drawn over another widget's edge is drawn whole (screens/wide_cuts.py).

Textual's compositor cut every line of a toast at the edges of the widgets behind it, and a
double-width character straddling such an edge became two spaces: at 120x30 a toast over the
start-up offer's border lost 「た」, over the intake's 氏名/所属 row 「を」. What the terminal receives
is read back here: every update the desk sends (the whole screen, then the parts redrawn as focus
moves and keys are typed under the toast) is played into a grid of cells, as a terminal does.
"""

from __future__ import annotations

import asyncio
import re

from rich.cells import cell_len
from textual.widgets._toast import Toast

from conftest import Clock, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.demo import build_demo
from csirt_tui.store import Store

KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
MESSAGE = "abc" + KANA * 5  # "abc": the kana fall across the edges (at 120x30, 「た」 on the border)

_SEQUENCE = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[78=>]")


class Terminal:
    """Cells as a terminal keeps them: a wide character takes two, writing over either half of
    one blanks the other half."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [[" "] * width for _ in range(height)]
        self.x = self.y = 0

    def feed(self, data: str) -> None:
        pos = 0
        for match in _SEQUENCE.finditer(data):
            self._text(data[pos:match.start()])
            pos = match.end()
            if match.group(2) == "H":
                row, _, col = (match.group(1) or "1;1").partition(";")
                self.y, self.x = int(row or 1) - 1, int(col or 1) - 1
        self._text(data[pos:])

    def _put(self, x: int, ch: str) -> None:
        row = self.cells[self.y]
        if 0 <= x < self.width:
            if row[x] == "" and x > 0:
                row[x - 1] = " "  # the second half of a wide character written over
            if x + 1 < self.width and row[x + 1] == "":
                row[x + 1] = " "  # the first half of one written over
            row[x] = ch

    def _text(self, text: str) -> None:
        for ch in text:
            if ch == "\n":
                self.y, self.x = min(self.y + 1, self.height - 1), 0
                continue
            if ch == "\r":
                self.x = 0
                continue
            width = cell_len(ch)
            if width == 0:
                continue
            self._put(self.x, ch)
            if width == 2:
                self._put(self.x + 1, "")
            self.x += width

    def text(self, x1: int, x2: int, y1: int, y2: int) -> str:
        return "".join("".join(self.cells[y][x1:x2]) for y in range(y1, y2))


def watch(app, terminal: Terminal) -> None:
    """Every update the desk sends to the terminal, played into ``terminal`` (the headless driver
    writes nothing: the same updates are rendered here)."""
    from textual._compositor import CompositorUpdate

    display = app._display

    def shown(screen, renderable) -> None:
        if isinstance(renderable, CompositorUpdate):
            terminal.feed(renderable.render_segments(app.console))
        display(screen, renderable)

    app._display = shown


def toast_text(app, terminal: Terminal) -> str:
    (toast,) = app.screen.query(Toast)
    r = toast.content_region
    return terminal.text(r.x, r.right, r.y, r.bottom).replace(" ", "")


def run(tmp_path, then) -> dict:
    clock = Clock()
    store = Store.open(tmp_path / "store", clock=clock)
    build_demo(store, operator="受付")
    state: dict = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="受付", clock=clock, backups=False)
        terminal = Terminal(120, 30)
        async with app.run_test(size=(120, 30), notifications=True) as pilot:
            watch(app, terminal)
            await pilot.pause()
            await then(app, pilot, terminal, state, store)

    asyncio.run(scenario())
    return state


async def toast_shown(app, pilot) -> None:
    app.notify(MESSAGE, title="下書き", timeout=60, markup=False)
    assert await wait_until(pilot, lambda: len(app.screen.query(Toast)) == 1)
    await pilot.pause(0.3)


def test_a_toast_over_the_offer_of_a_draft_is_drawn_whole(tmp_path):
    async def then(app, pilot, terminal, state, store):
        store.save_draft("20261205-101010-abcd", {"what": "不審なメールを開いた", "place": "本庁舎3階"},
                         operator="受付 花子")
        from screens.resume import ResumeDraftScreen

        app.push_screen(ResumeDraftScreen(store.list_drafts()))
        assert await wait_until(pilot, lambda: isinstance(app.screen, ResumeDraftScreen))
        await toast_shown(app, pilot)
        state["shown"] = toast_text(app, terminal)
        await pilot.press("tab", "tab")  # focus moves under the toast: parts of the screen redrawn
        await pilot.pause(0.3)
        state["after tab"] = toast_text(app, terminal)

    state = run(tmp_path, then)
    assert state["shown"] == "下書き" + MESSAGE  # before: 「…さしすせそちつて…」
    assert state["after tab"] == "下書き" + MESSAGE


def test_a_toast_over_the_intake_stays_whole_while_the_operator_types_under_it(tmp_path):
    async def then(app, pilot, terminal, state, store):
        await pilot.press("ctrl+n")
        assert await wait_until(pilot, lambda: type(app.screen).__name__ == "IntakeScreen" and app.focused)
        await toast_shown(app, pilot)
        state["shown"] = toast_text(app, terminal)
        for _ in range(7):
            await pilot.press("tab")
        await pilot.press(*"山田")
        await pilot.pause(0.3)
        state["after typing"] = toast_text(app, terminal)

    state = run(tmp_path, then)
    assert state["shown"] == "下書き" + MESSAGE  # before: 「…わ  ん」 (を cut)
    assert state["after typing"] == "下書き" + MESSAGE


def test_another_textuals_compositor_is_left_as_it_is(monkeypatch):
    """Put in place only over the method it was written against (the same in Textual 8.0.0-8.2.8)."""
    from textual._compositor import Compositor

    from screens import css_cache, wide_cuts

    assert Compositor._render_chops is wide_cuts._render_chops  # installed by csirt_tui.app

    def changed(self, crop, is_rendered_line):  # a later Textual's own
        return []

    monkeypatch.setattr(wide_cuts, "_installed", False)
    monkeypatch.setattr(Compositor, "_render_chops", changed)
    monkeypatch.setattr(css_cache, "dist_version", lambda module: "9.0.0")
    assert wide_cuts.install() is False
    assert Compositor._render_chops is changed


def test_a_few_cells_redrawn_in_a_widget_over_another_widgets_edge_reach_the_terminal():
    """A widget in front of others (a dropdown, a toast) joined over the edges behind it, and
    then redrawing a few of its cells past such an edge: the partial update wrote the joined
    piece only up to the first edge behind it (Textual's ChopsUpdate takes the next cut for a
    piece's end), so those cells never reached the terminal: it kept showing the old ones."""
    from rich.segment import Segment
    from textual.app import App
    from textual.containers import Horizontal
    from textual.geometry import Region
    from textual.strip import Strip
    from textual.widget import Widget
    from textual.widgets import Static

    import csirt_tui.app  # noqa: F401  (puts screens/wide_cuts.py in place)

    class Front(Widget):
        DEFAULT_CSS = "Front { layer: above; width: 40; height: 3; offset: 20 2; border: solid red; }"
        mark = 0

        def render_line(self, y: int) -> Strip:
            width = self.size.width
            return Strip([Segment("".join("#" if x == 25 + self.mark else "." for x in range(width)))], width)

        def move(self) -> None:  # two cells redrawn, past the edge (x 40) of the panels behind
            self.mark += 1
            self.refresh(Region(24 + self.mark, 0, 1, 1), Region(25 + self.mark, 0, 1, 1))

    class Panels(App):
        CSS = ("Screen { layers: base above; } Horizontal { height: 8; }"
               " Static { width: 1fr; height: 8; border: solid blue; }")

        def compose(self):
            with Horizontal():
                yield Static("左")
                yield Static("右")
            yield Front()

    shown: dict = {}

    async def scenario():
        app = Panels()
        terminal = Terminal(80, 12)
        async with app.run_test(size=(80, 12)) as pilot:
            watch(app, terminal)
            app.refresh()
            await pilot.pause(0.2)
            for _ in range(3):
                app.query_one(Front).move()
                await pilot.pause(0.1)
            strips = app.screen._compositor.render_strips()
            shown["screen"] = ["".join(seg.text for seg in strip).rstrip() for strip in strips]
            shown["terminal"] = ["".join(row).rstrip() for row in terminal.cells]

    asyncio.run(scenario())
    assert shown["terminal"][3] == shown["screen"][3]  # before: the # still at its first place
    assert shown["terminal"] == shown["screen"]
