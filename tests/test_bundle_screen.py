"""持ち出し / 取り込み in the desk (screens/exchange.py): the file, the password, what an
import would change before it is done, then all of it."""

from __future__ import annotations

import asyncio

from textual.widgets import Input, Static

from conftest import Clock, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.exchange import BundleScreen


def _said(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def _type(pilot, text: str) -> None:
    for ch in text:
        await pilot.press(ch)


def test_a_bundle_goes_out_encrypted_and_comes_in_after_its_preview(tmp_path):
    clock = Clock()
    desk = Store.open(tmp_path / "desk", clock=clock)
    for n in range(3):
        inc = desk.create_incident(sample_intake(what=f"通報 {n}"), operator="受付 花子")
        desk.append(inc.id, "note", "メモ", operator="担当 太郎")
    target = tmp_path / "to-terminal.bundle"
    seen = {}

    async def out():
        app = CsirtDeskApp(desk, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_bundle("export")
            assert await wait_until(pilot, lambda: isinstance(app.screen, BundleScreen)
                                    and app.screen.query("#bundle-go"))
            app.screen.query_one("#bundle-path", Input).value = str(target)
            await _type(pilot, "pw2026")  # the password field has focus
            app.screen.query_one("#bundle-confirm", Input).focus()
            await _type(pilot, "pw2026")
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: "書き出しました" in _said(app))
            seen["out"] = _said(app)

    asyncio.run(out())
    assert target.exists() and b"pw2026" not in target.read_bytes() and "暗号化あり" in seen["out"]

    terminal = Store.open(tmp_path / "terminal", clock=clock)

    async def back():
        app = CsirtDeskApp(terminal, operator="端末 太郎", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_bundle("import")
            assert await wait_until(pilot, lambda: isinstance(app.screen, BundleScreen)
                                    and app.screen.query("#bundle-go"))
            screen = app.screen
            screen.query_one("#bundle-path", Input).value = str(target)
            screen.query_one("#bundle-password", Input).focus()
            await _type(pilot, "wrong")
            await pilot.press("ctrl+s")
            message = screen.query_one("#bundle-message", Static)
            assert await wait_until(pilot, lambda: "パスワードが違うか" in str(message.render()))
            assert terminal.count_incidents() == 0
            screen.query_one("#bundle-password", Input).value = "pw2026"
            await pilot.press("ctrl+s")
            plan = screen.query_one("#bundle-plan-text", Static)
            assert await wait_until(pilot, lambda: "新しいインシデント 3 件、新しい記録 6 件" in str(plan.render()))
            assert terminal.count_incidents() == 0  # shown, not yet taken in
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: "取り込みました" in _said(app))
            seen["in"] = _said(app)

    asyncio.run(back())
    assert Store.open(tmp_path / "terminal").count_incidents() == 3
    assert Store.open(tmp_path / "terminal").verify().ok


def test_a_desk_without_a_name_is_given_one_on_the_screen(tmp_path):
    """The CLI's --desk, keyboard only: a store with no name yet asks for one on both screens
    (the other desk shows it: 「本庁デスク からのバンドル」, 「2026-0003@隔離端末1」); a named one does not."""
    clock = Clock()
    desk = Store.open(tmp_path / "desk", clock=clock)
    desk.create_incident(sample_intake(what="通報"), operator="受付 花子")
    target = tmp_path / "to-terminal.bundle"
    terminal = Store.open(tmp_path / "terminal", clock=clock)
    seen = {}

    async def walk(store, mode, name):
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_bundle(mode)
            assert await wait_until(pilot, lambda: isinstance(app.screen, BundleScreen)
                                    and app.screen.query("#bundle-go"))
            screen = app.screen
            screen.query_one("#bundle-path", Input).value = str(target)
            screen.query_one("#bundle-desk", Input).value = name
            if mode == "export":
                screen.query_one("#bundle-waive", Input).value = "試験"
                await pilot.press("ctrl+s")
                assert await wait_until(pilot, lambda: "書き出しました" in _said(app))
            else:
                await pilot.press("ctrl+s")
                plan = screen.query_one("#bundle-plan-text", Static)
                assert await wait_until(pilot, lambda: "新しいインシデント 1 件" in str(plan.render()))
                seen["plan"] = str(plan.render())
                await pilot.press("ctrl+s")
                assert await wait_until(pilot, lambda: "取り込みました" in _said(app))
            app.open_bundle(mode)  # named now: not asked again
            assert await wait_until(pilot, lambda: isinstance(app.screen, BundleScreen)
                                    and app.screen.query("#bundle-go"))
            seen[mode] = bool(app.screen.query("#bundle-desk"))

    asyncio.run(walk(desk, "export", "本庁デスク"))
    assert Store.open(tmp_path / "desk").desk == "本庁デスク" and seen["export"] is False
    asyncio.run(walk(terminal, "import", "隔離端末1"))
    assert "本庁デスク からのバンドル" in seen["plan"]
    assert Store.open(tmp_path / "terminal").desk == "隔離端末1" and seen["import"] is False
