"""持ち出し / 取り込み: carry incidents to and from the isolated terminal in a bundle
(issue 17; docs/exchange.md). The work is the core's (csirt_tui.exchange); this screen asks
for the file and the password, shows what an import would change before it is done, and a
progress bar while a large bundle goes in."""

from __future__ import annotations

from pathlib import Path
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from rich.text import Text
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static

from csirt_tui.cells import narrow
from csirt_tui.draftsave import plain_problem
from csirt_tui.errors import DomainError, TargetExistsError
from csirt_tui.textsafe import printable
from screens.commands import bindings
from screens.form import DraftedDialog, DraftKey, DraftStatus, Folded
from screens.safe_input import PasswordInput, SafeInput


def default_bundle_path(store, now) -> str:
    name = store.desk or store.store_id[:6] or "desk"
    return str(Path.home() / f"csirt-desk-{name}-{now:%Y%m%d-%H%M}.bundle")


class BundleScreen(DraftedDialog):
    """``mode`` "export" (持ち出し: every incident, or ``incident_id``) or "import" (取り込み).

    What the operator types for an export (the reason not to encrypt, a path of their own) is a
    draft as in every dialog: it autosaves, Esc asks before it is discarded, Ctrl+O keeps it
    elsewhere, opened again it is offered back, the bundle written closes it. Passwords are
    never part of it."""

    KEYS_SCREEN = "bundle"
    BINDINGS = bindings("bundle")  # screens/commands.py
    DRAFT_WHAT = "入力 (暗号化しない理由・保存先)"
    DEFAULT_CSS = """
    BundleScreen { align: center middle; }
    BundleScreen #bundle-box { width: 96%; max-width: 100; height: auto; max-height: 96%; border: round $accent;
                               background: $surface; padding: 0 1; }
    BundleScreen .bundle-key { width: 12; }
    BundleScreen .bundle-row { height: 1; }
    BundleScreen #bundle-plan { height: auto; max-height: 12; }
    BundleScreen #bundle-message { color: $warning; }
    BundleScreen .buttons { height: auto; margin-top: 1; }
    """

    def __init__(self, mode: str, incident_id: str | None = None) -> None:
        super().__init__(DraftKey("form", incident_id, "bundle:export", "bundle") if mode == "export" else None)
        self.mode = mode
        self.incident_id = incident_id
        self.plan = None
        self.family = ""
        self.working = False
        self._overwrite = ""
        # what the operator types first: the password (the path is filled in), or the file to take in
        self.AUTO_FOCUS = "#bundle-password" if mode == "export" else "#bundle-path"

    def compose(self) -> ComposeResult:
        store = self.app.store
        exporting = self.mode == "export"
        with Vertical(id="bundle-box"):
            title = "バンドルの持ち出し (隔離端末などへ)" if exporting else "バンドルの取り込み"
            yield Label(title, classes="saved-title", markup=False)
            if exporting:
                what = (f"インシデント {self.incident_id}" if self.incident_id
                        else f"すべてのインシデント（{store.count_incidents():,}件）")
                yield Static(f"持ち出すもの: {what}。記録はすべて、書いた人・時刻のまま運ばれます。", markup=False,
                             id="bundle-what")
                known = self._peers()
                if known and not self.incident_id:  # what that desk has not yet got from here (csirt_tui/peers.py)
                    with Horizontal(classes="bundle-row"):
                        yield Label("相手", classes="bundle-key")
                        yield Select([(Text("すべての記録"), "")]
                                     + [(Text(printable(narrow(f"{name} にまだ渡していない記録だけ"))), sid)
                                        for sid, name in known],
                                     value="", allow_blank=False, id="bundle-for", compact=True)
            with Horizontal(classes="bundle-row"):
                yield Label("ファイル", classes="bundle-key")
                yield SafeInput(default_bundle_path(store, self.app.now()) if exporting else "", id="bundle-path",
                                compact=True)
            with Horizontal(classes="bundle-row"):
                yield Label("パスワード", classes="bundle-key")
                yield PasswordInput("", id="bundle-password", compact=True,
                            placeholder="バンドルのパスワード (記録には残りません)")
            if exporting:
                with Horizontal(classes="bundle-row"):
                    yield Label("確認", classes="bundle-key")
                    yield PasswordInput("", id="bundle-confirm", compact=True, placeholder="もう一度")
            if not store.desk:  # the CLI's --desk: the name the other desk shows for this one (asked once)
                with Horizontal(classes="bundle-row"):
                    yield Label("このデスク", classes="bundle-key")
                    yield SafeInput("", id="bundle-desk", compact=True,
                                    placeholder="名前 (例: 本庁デスク、隔離端末1)。相手の画面に出ます")
            if exporting:
                yield Label("暗号化しない理由 (パスワードなしで持ち出す場合。記録に残ります)", markup=False)
                yield SafeInput("", id="bundle-waive", compact=True, placeholder="例: 庁内の施錠された部屋で手渡しするため")
                yield Checkbox("書きかけの下書きも入れる (相手の下書きの一覧に出ます)", id="bundle-drafts", compact=True)
            status = DraftStatus(id="draft-status")
            status.display = False  # shown when there is something to say (a question, a refused write)
            yield status
            plan = VerticalScroll(id="bundle-plan")
            plan.display = False  # until a bundle has been checked
            with plan:
                yield Static("", id="bundle-plan-text", markup=False)
            # folded by characters, a key name (「Ctrl+S。」) kept whole: Textual broke the line at its
            # only blank (「この内容で取り込むなら」 alone) or inside a long run (「Ctrl+」 | 「S。」)
            yield Folded("", id="bundle-message")
            bar = ProgressBar(total=None, show_eta=False, id="bundle-progress")
            bar.display = False
            yield bar
            with Horizontal(classes="buttons"):
                label = "持ち出す (Ctrl+S)" if exporting else "確かめる (Ctrl+S)"
                yield Button(label, id="bundle-go", variant="primary", compact=True)
                yield Button("やめる (Esc)", id="bundle-cancel", compact=True)


    def on_mount(self) -> None:
        self.start_drafts()

    def _peers(self) -> list[tuple[str, str]]:
        """(store id, name) of the desks this one has taken a bundle of (they can be sent a delta)."""
        from csirt_tui.peers import read

        try:
            return sorted(((sid, row["desk"] or sid[:6]) for sid, row in read(self.app.store).items()),
                          key=lambda x: x[1])
        except (DomainError, OSError):  # a damaged exchange.json: verify names it; the whole export still works
            return []

    # ------------------------------------------------------------ the draft (DraftedDialog)
    def draft_values(self) -> dict[str, str]:
        if self.mode != "export":
            return {}
        values = {"waive": self._value("bundle-waive"), "path": self._value("bundle-path")}
        if self.query("#bundle-desk"):
            values["desk"] = self._value("bundle-desk")
        return values

    def load_draft_values(self, values: dict[str, str]) -> None:
        for key, wid in (("waive", "#bundle-waive"), ("path", "#bundle-path"), ("desk", "#bundle-desk")):
            if isinstance(values.get(key), str) and self.query(wid):
                self.query_one(wid, Input).value = values[key]

    def draft_fields(self) -> list[tuple[str, str]]:
        values = self.draft_values()
        fields = [("暗号化しない理由", values.get("waive", "")), ("保存先", values.get("path", ""))]
        if "desk" in values:
            fields.append(("このデスクの名前", values["desk"]))
        return fields

    def draft_title(self) -> str:
        return f"バンドルの持ち出し ({self.incident_id})" if self.incident_id else "バンドルの持ち出し"

    def _say(self, text: str) -> None:
        self.query_one("#bundle-message", Folded).say(text)

    def _value(self, wid: str) -> str:
        return self.query_one(f"#{wid}", Input).value

    def _desk_name(self) -> str | None:
        """The name typed for this desk (None: none asked for, or left empty)."""
        return (self._value("bundle-desk").strip() or None) if self.query("#bundle-desk") else None

    # ------------------------------------------------------------ actions
    @on(Input.Submitted)
    @on(Button.Pressed, "#bundle-go")
    def action_go(self) -> None:
        # (Ctrl+S runs behind the keys read with it: screens/commands.py READS_FIELDS)
        if self.working or not self.is_attached:
            return
        if self.mode == "export":
            self._export()
        elif self.plan is None:
            self._check()
        else:
            self._take_in()

    @on(Button.Pressed, "#bundle-cancel")
    def action_cancel(self) -> None:
        if not self.working:
            super().action_cancel()  # typed text: asks first (a second Esc discards)

    @on(Select.Changed, "#bundle-for")
    def _for_changed(self, event: Select.Changed) -> None:
        names = dict(self._peers())
        what = (f"{names.get(event.value, '')} にまだ渡していない記録 (そのデスクが書いた記録を除く)" if event.value
                else f"すべてのインシデント（{self.app.store.count_incidents():,}件）")
        self.query_one("#bundle-what", Static).update(printable(narrow(f"持ち出すもの: {what}。"
                                                                      "記録はすべて、書いた人・時刻のまま運ばれます。")))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if self.mode == "import" and event.input.id in ("bundle-path", "bundle-password") and self.plan is not None:
            self.plan = None  # another file: check it again before anything is taken in
            self.query_one("#bundle-plan").display = False
            self.query_one("#bundle-go", Button).label = "確かめる (Ctrl+S)"

    def _export(self) -> None:
        password = self._value("bundle-password")
        if password != self._value("bundle-confirm"):
            self._say("パスワードと確認が一致しません")
            return
        path = self._value("bundle-path").strip()
        force = bool(path) and path == self._overwrite
        waive = self._value("bundle-waive")
        store, operator = self.app.store, self.app.operator
        ids = [self.incident_id] if self.incident_id else None
        chosen = self.query("#bundle-for")
        for_peer = (chosen.first(Select).value or None) if chosen else None
        drafts = self.query_one("#bundle-drafts", Checkbox).value
        name = self._desk_name()

        def work() -> None:
            from csirt_tui.exchange import write_bundle

            try:
                if name is not None:  # as `bundle export --desk NAME`
                    store.join_family(store.family, desk=name)
                done = write_bundle(store, path, ids=ids, password=password or None, waive_reason=waive,
                                    operator=operator, force=force, for_peer=for_peer, drafts=drafts)
            except TargetExistsError as err:
                self.app.call_from_thread(self._exists, path, str(err))
                return
            except Exception as err:  # whatever it is, said, and the screen usable again
                self.app.call_from_thread(self._failed, plain_problem(err, path))
                return
            how = "暗号化あり" if done.encrypted else "暗号化なし"
            more = f"、下書き {done.drafts} 件" if done.drafts else ""
            self.app.call_from_thread(self._done, f"書き出しました: {done.path}\nインシデント {done.incidents} 件、"
                                                  f"記録 {done.entries} 件{more}、{how}。"
                                                  "パスワードはバンドルとは別に渡してください。")

        self._start("書き出しています")
        self.run_worker(work, thread=True, exit_on_error=False)

    def _check(self) -> None:
        path, password = self._value("bundle-path").strip(), self._value("bundle-password") or None
        if not path:
            self._say("取り込むバンドルのファイルを入力してください")
            return
        store = self.app.store

        def work() -> None:
            from csirt_tui.exchange import read_and_plan

            try:
                plan, family = read_and_plan(store, path, password=password)
            except Exception as err:  # whatever it is, said, and the screen usable again
                self.app.call_from_thread(self._failed, plain_problem(err, path))
                return
            self.app.call_from_thread(self._planned, plan, family)

        self._start("確かめています (ファイル全体を検査します)")
        self.run_worker(work, thread=True, exit_on_error=False)

    def _planned(self, plan, family: str) -> None:
        self._stop()
        self.plan, self.family = plan, family
        box = self.query_one("#bundle-plan")
        box.display = True
        self.query_one("#bundle-plan-text", Static).update(printable("\n".join(plan.lines())))
        if plan.changes_nothing:
            self._say("取り込むものはありません。")
            self.plan = None
            return
        self._say("この内容で取り込むなら Ctrl+S。全部が取り込まれるか、何も変わらないかのどちらかです。")
        self.query_one("#bundle-go", Button).label = "取り込む (Ctrl+S)"

    def _take_in(self) -> None:
        plan, family, store, name = self.plan, self.family, self.app.store, self._desk_name()
        bar = self.query_one("#bundle-progress", ProgressBar)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=total, progress=done)

        def work() -> None:
            from csirt_tui.exchange import take_in

            try:
                changed = take_in(store, plan, family, desk=name, progress=progress, by=self.app.operator)
            except Exception as err:  # whatever it is, said, and the screen usable again
                text = plain_problem(err, store.root)
                if "まだ元に戻せていません" not in text:
                    text += "\nストアは取り込む前のままです。"
                self.app.call_from_thread(self._failed, text)
                return
            drafts = f"、下書き {len(plan.drafts)} 件 (下書きの一覧に出ます)" if plan.drafts else ""
            self.app.call_from_thread(self._done, f"取り込みました: インシデント {len(changed)} 件 "
                                                  f"({', '.join(changed[:8])}{' ほか' if len(changed) > 8 else ''})"
                                                  + drafts)

        self.plan = None
        self._start("取り込んでいます")
        self.run_worker(work, thread=True, exit_on_error=False)

    # ------------------------------------------------------------ state
    def _start(self, text: str) -> None:
        self.working = True
        self.query_one("#bundle-progress").display = True
        self._say(text)

    def _stop(self) -> None:
        self.working = False
        self.query_one("#bundle-progress").display = False

    def _failed(self, text: str) -> None:
        self._stop()
        self._say(text)

    def _exists(self, path: str, text: str) -> None:
        self._stop()
        self._overwrite = path
        self._say(f"{text}\n上書きするなら、もう一度 Ctrl+S を押してください。")

    def _done(self, text: str) -> None:
        self._stop()
        if self.keeper is not None:
            self.keeper.close("saved", self.incident_id)  # the reason is on the record with the export
        self.app.notify(text, title="バンドル", markup=False, timeout=12)
        self.dismiss(None)
        for screen in self.app.screen_stack:  # the dashboard shows what came in
            if hasattr(screen, "refresh_data"):
                screen.refresh_data()
