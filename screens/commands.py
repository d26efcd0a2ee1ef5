"""The desk's keys, in one place (issue 15): each screen's bindings, its footer, the F1
help, the command palette and the README's key table are all made from this list.

A :class:`Key` is one row: the screen it belongs to, the keys, the action it runs (None
for keys a widget handles itself, such as ↑ ↓ in a list: listed for the help and the
README only), a short label for the footer and a description in the procedures' words.
``rank`` orders what the footer keeps when the terminal is narrow (1 first; F1 is always
kept: it shows everything). The README's table is checked against :func:`readme_table`
by the tests: change a key here, and the README must say the same.

No ambiguous-width character (①, ※, ○, ×, …) is used in a label or a description:
they are one cell for Textual and two in a Japanese font.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from csirt_tui.cells import narrow

SCREENS = {  # screen id -> its name in the help and the README
    "app": "全画面",
    "dashboard": "ダッシュボード",
    "intake": "受付",
    "saved": "受付番号の表示",
    "resume": "下書きの再開 (起動時)",
    "discard": "下書きの破棄",
    "incident": "インシデント",
    "export": "報告書の出力",
    "report_texts": "報告書の記載",
    "triage": "トリアージ",
    "response": "対応の記録",
    "timeline": "時系列の記録",
    "roster": "連絡先名簿",
    "form": "入力フォーム・メモ",
    "offer": "書きかけの提示",
    "keep": "別の場所に保存",
    "picker": "一覧から選ぶ画面",
    "help": "キー一覧 (F1)",
    "poc": "PoC カード",
    "bundle": "バンドルの持ち出し・取り込み",
    "review": "手順の評価・見直し",
    "dropdown": "開いた選択肢 (受付方法など)",
}

# Keys of a widget rather than a screen: the open list of a dropdown (Textual's SelectOverlay,
# whose Esc the footer showed as 「Dismiss menu」; screens/chrome.install binds it from here).
# The footer ranks them, F1 lists them under the screens that have one.
WIDGETS = ("dropdown",)

_DISPLAY = {"ctrl": "Ctrl", "shift": "Shift", "escape": "Esc", "enter": "Enter", "tab": "Tab", "space": "Space",
            "slash": "/", "up": "Up", "down": "Down", "left": "Left", "right": "Right", "pageup": "PgUp", "pagedown": "PgDn", "home": "Home",
            "end": "End", "question_mark": "?"}


def key_text(key: str) -> str:
    """``ctrl+n`` → ``Ctrl+N``, ``slash`` → ``/``, ``f1`` → ``F1``."""
    parts = key.split("+")
    out = []
    for part in parts:
        if part in _DISPLAY:
            out.append(_DISPLAY[part])
        elif len(part) == 1 and len(parts) > 1:
            out.append(part.upper())
        elif part.startswith("f") and part[1:].isdigit():
            out.append(part.upper())
        else:
            out.append(part)
    return "+".join(out)


@dataclass(frozen=True)
class Key:
    screen: str
    keys: tuple[str, ...]          # Textual key names; the first is shown in the footer
    action: str | None             # None: a widget's own key (documented, not bound here)
    label: str                     # the footer's word(s)
    description: str               # the help's and the README's sentence
    show: bool = True              # in the footer (when it fits)
    priority: bool = False         # a priority binding (runs even when a field has focus)
    rank: int = 5                  # which footer entries stay when narrow (lower stays)
    palette: bool = False          # offered in the command palette too (app-level actions)
    cite: str = ""                 # the profile's clause the help cites (:func:`cite_for`), never written here

    def bindings(self, rename: dict[str, str] | None = None) -> list[Binding]:
        if self.action is None:
            return []
        action = (rename or {}).get(self.action, self.action)
        if self.priority and set(self.keys) & READS_FIELDS:
            action = f"app.after_typed({action!r})"
        return [Binding(key, action, self.label, show=self.show and i == 0, priority=self.priority,
                        key_display=key_text(key))
                for i, key in enumerate(self.keys)]

    @property
    def keys_text(self) -> str:
        return " / ".join(key_text(k) for k in self.keys)


# Priority keys that act on what is in the fields (save, keep elsewhere). A priority binding runs
# as soon as the app reads the key, while the keys read with it (a fast typist, a paste and
# Ctrl+S at once, a remote session's batch) still wait in the field's queue: the intake was
# saved with 何がどのように empty and closed, the text lost. These run behind those keys
# (CsirtDeskApp.action_after_typed).
READS_FIELDS = frozenset({"ctrl+s", "ctrl+o"})


def unwrapped(action: str) -> str:
    """The action a binding runs, without the after_typed wrapper and the namespace."""
    if action.startswith("app.after_typed(") and action.endswith(")"):
        action = action[len("app.after_typed("):-1].strip("'\"")
    return action.removeprefix("app.").removeprefix("screen.")


def _k(screen, keys, action, label, description, **kw) -> Key:
    return Key(screen, tuple(keys.split()) if isinstance(keys, str) else tuple(keys), action, label, description,
               **kw)


KEYS: list[Key] = [
    # everywhere
    _k("app", "f1", "app.help", "ヘルプ", "この画面のキー一覧 (何ができるか)", rank=0),
    _k("app", "ctrl+n", "app.new_intake", "新規受付", "新規受付 (電話・メールなどの通報を受け付ける)", priority=True,
       rank=1, palette=True),
    _k("app", "ctrl+r", "app.roster", "名簿", "連絡先名簿 (役割・担当者・今だれに電話するか)", priority=True, rank=4,
       palette=True),
    _k("app", "f3", "app.poc_card", "PoC",
       "PoC カード (窓口の所在地・対応時間・電話番号・メール・確認項目)", rank=8, palette=True,
       cite="poc"),
    _k("app", "ctrl+p", "app.command_palette", "コマンド",
       "コマンドパレット (名前で探して実行: 報告書、集計、バックアップ、テーマなど)", priority=True, rank=6),
    # priority: focus moves when Tab is read, so that what is typed right after it lands in the
    # next field (a dialog's fast typing went into the field before: a reason into a password)
    _k("app", "tab", "app.move_focus(1)", "次の項目", "次の項目 (どの画面でも。開いた選択肢の中では選択肢の操作)",
       show=False, priority=True),
    _k("app", "shift+tab", "app.move_focus(-1)", "前の項目", "前の項目", show=False, priority=True),
    _k("app", "ctrl+q", "app.quit", "終了",
       "終了 (入力中の下書きを書いてから。書けないときは閉じずに知らせ、10 秒以内にもう一度 Ctrl+Q で閉じる)",
       priority=True, rank=3, palette=True),
    # dashboard
    _k("dashboard", "up down pageup pagedown", None, "選択", "選択"),
    _k("dashboard", "enter", None, "開く", "インシデントを開く / 下書きの続きを入力"),
    _k("dashboard", "tab shift+tab", None, "移動", "絞り込み・一覧・下書きの間を移動"),
    _k("dashboard", "slash", "focus_filter", "絞り込み", "絞り込み (入力中は Enter で一覧へ、Esc で解除)", rank=5),
    _k("dashboard", "n", "app.new_intake", "新規受付", "新規受付 (Ctrl+N と同じ)", show=False),
    _k("dashboard", "t", "triage", "トリアージ", "選択中のインシデントのトリアージ", rank=2),
    _k("dashboard", "o", "response", "対応の記録", "選択中のインシデントの対応の記録", rank=2),
    _k("dashboard", "a", "toggle_all", "全件/対応中", "対応中のみ / 全件 (収束・非インシデントも) を切り替える", rank=7),
    _k("dashboard", "r", "refresh", "更新",
       "一覧を読み直す (ストアが変わると一覧は 2 秒以内に自動で読み直されます)", show=False),
    _k("dashboard", "x", "discard_draft", "下書きを破棄",
       "下書き一覧で選んだ下書きを破棄 (確かめてから。中身はストアに残り、だれがいつ破棄したかを記録)", rank=2),
    # intake
    _k("intake", "tab", "move(1)", "次の項目", "次の項目", show=False, priority=True),
    _k("intake", "shift+tab", "move(-1)", "前の項目", "前の項目", show=False, priority=True),
    _k("intake", "enter", "enter_key", "次へ",
       "1 行の欄では次の項目へ。何がどのように・メモ (複数行) では改行 (Tab で次へ)", show=False, priority=True),
    _k("intake", "down space", None, "選ぶ", "受付方法・通報の種類の選択肢を開く (Up Down で選び Enter)。"
       "Space で「折り返し確認済み」「訓練として受け付ける」をつける / 外す"),
    _k("intake", "ctrl+s", "save", "保存", "保存 (受付番号を表示)", priority=True, rank=1),
    _k("intake", "ctrl+o", "keep_elsewhere", "別の場所に保存",
       "下書きをストアに書けないとき: 入力を別のフォルダのファイルかクリップボードに", priority=True, rank=4),
    _k("intake", "escape", "leave", "戻る", "ダッシュボードへ戻る (下書きは残る)", rank=2),
    _k("intake", "f4", "toggle_says", "通報者の言葉", "訓練シナリオの通報者の言葉の続きを表示 / 最後まで読んだら隠す / もう一度で表示 (訓練のとき)", rank=6),
    # the new number
    _k("saved", "enter escape", "close", "閉じる", "ダッシュボードへ (新しいインシデントを選択)", rank=1),
    _k("saved", "t", "triage", "トリアージへ", "トリアージへ進む", rank=1),
    _k("saved", "c ctrl+c", "copy_id", "番号をコピー",
       "受付番号をクリップボードに (届かない端末では、画面の番号を選んでコピーするか書き写す)", rank=2),
    # resume at start
    _k("resume", "enter", None, "続き", "続きを入力"),
    _k("resume", "escape", "later", "あとで", "あとで (下書きはダッシュボードの一覧に残る)", rank=1),
    _k("resume", "x", "discard", "破棄", "この下書きを破棄 (確かめてから。中身はストアに残る)", rank=2),
    # discard a draft (the dashboard's x, the offer at start): Enter is on やめる
    _k("discard", "y", "discard", "破棄する",
       "破棄する (中身はストアに「破棄した下書き」として残り、だれがいつ破棄したかを記録)", rank=1),
    _k("discard", "escape", "cancel", "やめる", "やめる (破棄しない。Enter も同じ)", rank=1),
    # incident
    _k("incident", "up down pageup pagedown", None, "スクロール", "スクロール"),
    _k("incident", "t", "triage", "トリアージ", "トリアージ", rank=1),
    _k("incident", "o", "response", "対応", "対応の記録", rank=1),
    _k("incident", "l", "timeline", "記録", "時系列の記録 (メモ・訂正)", rank=1),
    _k("incident", "c", "call", "電話", "電話する: 役割を選び、今の担当者に電話して通話を記録", rank=2),
    _k("incident", "p", "export", "報告書", "報告書 (PDF) の出力", rank=2),
    _k("incident", "e", "report_texts", "記載", "報告書の記載 (原因・被害・再発防止策など)", rank=3),
    _k("incident", "d", "drafts", "書きかけ", "書きかけのメモ・入力を開く", rank=4),
    _k("incident", "k", "drill", "訓練", "訓練として記録 / 訓練の指定を取り消す (どちらも新しい記録として残る)", rank=7),
    _k("incident", "v", "drill_review", "講評", "訓練の講評 (PDF): シナリオの期待と記録、受付からの時間", rank=7),
    _k("incident", "r", "reload", "更新", "読み直す", rank=6),
    _k("incident", "ctrl+c", "copy_id", "番号をコピー",
       "インシデントの番号 (受付番号) をクリップボードに (届かない端末では画面の番号を選ぶか書き写す)", rank=7),
    _k("incident", "escape", "app.pop_screen", "戻る", "戻る", rank=2),
    # export
    _k("export", "tab", None, "次へ", "次の項目"),
    _k("export", "ctrl+s", "export", "出力", "出力 (欄で Enter も同じ)", priority=True, rank=1),
    _k("export", "f2", "edit_texts", "記載の編集", "報告書の記載 (原因・被害など) を編集", rank=2),
    _k("export", "ctrl+o", "keep_elsewhere", "別の場所に保存",
       "下書きをストアに書けないとき: 入力 (暗号化しない理由・保存先) を別のフォルダのファイルかクリップボードに",
       priority=True, show=False),
    _k("export", "escape", "cancel", "やめる", "やめる (入力があれば、もう一度 Esc で破棄)", rank=1),
    _k("report_texts", "enter", None, "編集", "選んだ欄を編集"),
    _k("report_texts", "escape", "close", "閉じる", "戻る", rank=1),
    # triage
    # the keys that choose and move act when they are read (priority): what is typed right after
    # them lands where the operator expects (screens/triage.py)
    _k("triage", "enter", "enter_key", "決定", "選んだものに決める (事実確認・種別は選ぶと次の段階へ移ります)", show=False,
       priority=True),
    _k("triage", "space", "choose", "選ぶ", "選ぶ / 該当する事例・確認事項をつける・外す", show=False, priority=True),
    _k("triage", "down right", "cursor('down')", "下へ", "一覧の次へ", show=False, priority=True),
    _k("triage", "up left", "cursor('up')", "上へ", "一覧の前へ", show=False, priority=True),
    _k("triage", "home", "cursor('first')", "先頭", "一覧の先頭へ", show=False, priority=True),
    _k("triage", "end", "cursor('last')", "末尾", "一覧の最後へ", show=False, priority=True),
    _k("triage", "pagedown", "cursor('page_down')", "次の頁", "一覧を 1 画面先へ", show=False, priority=True),
    _k("triage", "pageup", "cursor('page_up')", "前の頁", "一覧を 1 画面前へ", show=False, priority=True),
    _k("triage", "tab", "move(1)", "次の項目", "次の項目 (事情、レベルの変更と理由、レベル0 の報告・連絡)", show=False,
       priority=True),
    _k("triage", "shift+tab", "move(-1)", "前の項目", "前の項目", show=False, priority=True),
    _k("triage", "ctrl+s", "record", "記録", "記録 (足りない項目があれば、その項目へ移って知らせる)", priority=True,
       rank=1),
    _k("triage", "f5", "support", "支援依頼",
       "外部委託事業者・外部の専門家への協力依頼を記録 (ログ等の検査及び分析、優先順位の判断が困難なとき)",
       rank=4, cite="triage_support"),
    _k("triage", "ctrl+o", "keep_elsewhere", "別の場所に保存",
       "下書きをストアに書けないとき: 入力を別のフォルダのファイルかクリップボードに", priority=True, show=False),
    _k("triage", "escape", "cancel", "やめる", "やめる (入力があれば確かめてから)", rank=1),
    # response
    _k("response", "up down tab", None, "移動", "手順・連絡・証拠の一覧の中と間を移動"),
    _k("response", "s", "step", "手順", "手順の状態を記録 (一覧で Enter も同じ)", rank=1),
    _k("response", "t", "call", "電話", "選んだ連絡先に電話する (名簿から今の担当者を選び、通話を記録)", rank=2),
    _k("response", "d", "notified", "連絡済", "選んだ連絡先に連絡済み", rank=2),
    _k("response", "x", "not_needed", "不要", "選んだ連絡先への連絡は不要", rank=4),
    _k("response", "a", "add_party", "連絡先追加", "連絡先を追加", rank=5),
    _k("response", "e", "evidence", "証拠", "証拠を登録", rank=3),
    _k("response", "h", "hand_over", "受渡", "証拠の受け渡し", rank=5),
    _k("response", "m", "monitoring", "監視", "監視期間", rank=5),
    _k("response", "p", "crime", "犯罪", "犯罪の可能性", rank=6),
    _k("response", "k", "council", "会議", "セキュリティ会議 (プロファイルの手順にあるとき)", show=False,
       cite="council"),
    _k("response", "o", "resume", "運用再開", "運用再開 (プロファイルの手順にあるとき)", show=False, cite="resume"),
    _k("response", "r", "release", "解除",
       "緊急時対応の解除: プロファイルの定める脅威度なら庁内で必要な報告を記録し、残りの手順を対象外として収束",
       rank=3, cite="threat_release"),
    _k("response", "c", "close", "収束", "収束", rank=2),
    _k("response", "l", "timeline", "記録", "時系列の記録", rank=2),
    _k("response", "escape", "app.pop_screen", "戻る", "戻る", rank=1),
    # timeline
    _k("timeline", "n", "note", "メモ", "メモを追加", rank=1),
    _k("timeline", "c", "correct", "訂正", "選んだ記録を訂正", rank=1),
    _k("timeline", "slash", "search", "検索", "検索", rank=2),
    _k("timeline", "k", "kind", "種類", "種類で絞る (一覧から Enter で選ぶ)", rank=3),
    _k("timeline", "m", "more", "さらに", "古い記録をさらに表示", rank=3),
    _k("timeline", "r", "reload", "更新", "読み直す", rank=6),
    _k("timeline", "escape", "leave", "戻る", "戻る", rank=1),
    # roster
    _k("roster", "slash", "search", "検索", "検索", rank=2),
    _k("roster", "w", "who", "今だれに", "今だれに電話するか", rank=1),
    _k("roster", "a", "add", "追加", "追加", rank=2),
    _k("roster", "e", "edit", "編集", "編集", rank=2),
    _k("roster", "x", "absent", "不在/在席", "不在 / 在席", rank=3),
    _k("roster", "v", "reviewed", "見直し済", "見直し済み", rank=4),
    _k("roster", "n", "change_notice", "変更の報告",
       "連絡先の変更を関係機関へ報告したことを記録 (プロファイルの定める関係機関へ)", rank=6,
       cite="roster_change_notice"),
    _k("roster", "i", "import_csv", "CSV取込", "CSV 取込", rank=5),
    _k("roster", "o", "export_csv", "CSV出力", "CSV 出力", rank=5),
    _k("roster", "escape", "leave", "戻る", "戻る", rank=1),
    # 手順の評価・見直し (palette)
    _k("review", "up down pageup pagedown", None, "スクロール", "スクロール"),
    _k("review", "a", "add", "記録", "手順の評価・見直しを記録 (だれが・いつ・何を・どう変えるか・使った評価)", rank=1),
    _k("review", "c", "correct", "訂正", "選んだ記録を訂正 (新しい記録として。元の記録は残る)", rank=2),
    _k("review", "escape", "leave", "戻る", "戻る", rank=1),
    # dialogs
    _k("form", "tab", None, "次へ", "次の項目"),
    _k("form", "ctrl+s", "submit", "記録", "記録", priority=True, rank=1),
    _k("form", "ctrl+o", "keep_elsewhere", "別の場所に保存",
       "下書きをストアに書けないとき: 入力を別のフォルダのファイルかクリップボードに", priority=True, show=False),
    _k("form", "escape", "cancel", "やめる", "やめる (入力があれば、もう一度 Esc で破棄)", rank=1),
    _k("offer", "enter", None, "続き", "書きかけの続きを入力"),
    _k("offer", "n", "new", "新しく書く", "新しく書く (書きかけは一覧に残る)", rank=1),
    _k("offer", "escape", "later", "あとで", "あとで", rank=1),
    _k("keep", "escape", "back", "入力に戻る", "入力に戻る", rank=1),
    _k("picker", "up down enter", None, "選ぶ", "移動 / 決定"),
    _k("picker", "escape", "cancel", "やめる", "やめる", rank=1),
    # priority: focus moves when Tab is read, so that what is typed right after it lands in the next field
    _k("bundle", "tab", "app.focus_next", "次の項目", "次の項目", show=False, priority=True),
    _k("bundle", "shift+tab", "app.focus_previous", "前の項目", "前の項目", show=False, priority=True),
    _k("bundle", "ctrl+s", "go", "実行",
       "持ち出す / 取り込むバンドルを確かめる (何が変わるかを表示)、もう一度で取り込む (欄で Enter も同じ)", priority=True,
       rank=1),
    _k("bundle", "ctrl+o", "keep_elsewhere", "別の場所に保存",
       "下書きをストアに書けないとき: 入力 (暗号化しない理由・保存先) を別のフォルダのファイルかクリップボードに",
       priority=True, show=False),
    _k("bundle", "escape", "cancel", "やめる", "やめる (入力があれば、もう一度 Esc で破棄)", rank=1),
    _k("poc", "escape enter f3", "close", "閉じる", "閉じる", rank=1),
    # the open list of a dropdown (受付方法, 通報の種類, トリアージの選択肢...): Esc closes the list only
    _k("dropdown", "up down pageup pagedown", None, "選ぶ", "選択肢の中を移動 (Home / End で先頭・最後へ)"),
    _k("dropdown", "enter", None, "決定", "選んだものに決めて閉じる"),
    _k("dropdown", "escape", "dismiss", "選択肢を閉じる", "選ばずに選択肢を閉じる (画面は閉じない)", rank=1),
    _k("help", "up down pageup pagedown", None, "スクロール", "スクロール"),
    _k("help", "escape f1", "close", "閉じる", "閉じる", rank=1),
]


def keys_for(screen: str) -> list[Key]:
    return [k for k in KEYS if k.screen == screen]


def bindings(screen: str, *, only: tuple[str, ...] | None = None, rename: dict[str, str] | None = None
             ) -> list[Binding]:
    """A screen's BINDINGS: its rows here, in this order (``only`` these actions; ``rename``
    an action where a dialog names its own, e.g. a note's Ctrl+S runs ``save``)."""
    rows = [k for k in keys_for(screen) if only is None or k.action in only]
    return [b for k in rows for b in k.bindings(rename)]


def rank_of(screen_ids: tuple[str, ...], action: str, key: str) -> int:
    """The footer rank of ``key`` running ``action`` on a screen (its own rows first, then
    the app's, then a widget's: :data:`WIDGETS`); 9 for a key not listed here."""
    bare = unwrapped(action)
    for sid in (*screen_ids, *WIDGETS):
        for k in keys_for(sid):
            if key in k.keys and k.action and (unwrapped(k.action) == bare or k.priority and key in READS_FIELDS):
                return k.rank
    return 9


NO_RULE = "このプロファイルには定めがありません"


def _steps_with(profile, key: str) -> list[dict]:
    return [{"source": step.get("source") or phase.get("source", "")}
            for phase in profile.data.get("phases", []) for step in phase.get("steps", []) if step.get(key)]


def cite_for(profile, cite: str) -> str:
    """The clause of the store's own profile behind a key (issue 16: an operator is never shown
    another organisation's clause): its PoC card's, its triage support's, its council's … source,
    narrowed (one cell each); :data:`NO_RULE` where the profile has no such rule; "" for no cite.
    Text that cannot know the profile (the README) carries none."""
    if not cite or profile is None:
        return ""
    data = profile.data
    if cite == "poc":
        sources = [data.get("poc", {}).get("source", "")]
    elif cite == "triage_support":
        sources = [r.get("source", "") for r in (data.get("triage_support") or {}).get("reasons", [])]
    elif cite in ("threat_release", "roster_change_notice"):
        sources = [(data.get(cite) or {}).get("source", "")]
    elif cite in ("council", "resume"):
        sources = [s["source"] for s in _steps_with(profile, "council_items" if cite == "council" else "resume")]
    else:
        raise KeyError(cite)
    sources = list(dict.fromkeys(s for s in sources if s))
    return narrow("・".join(sources)) if sources else NO_RULE


def described(key: Key, profile=None) -> str:
    """``key``'s description for the help of a desk with ``profile``: with its profile's clause."""
    cite = cite_for(profile, key.cite)
    if not cite:
        return key.description
    if key.description.endswith(")"):  # 「PoC カード (…確認項目。むつ 別表第1)」
        return f"{key.description[:-1]}。{cite})"
    return f"{key.description} ({cite})"


def help_rows(screen: str, *, common: bool = True, profile=None) -> list[tuple[str, str]]:
    """(keys, description) for the F1 help of ``screen``: its own rows, then (``common``)
    those that work everywhere; with ``profile``, each row cites that profile's clause."""
    rows = [(k.keys_text, described(k, profile)) for k in keys_for(screen)]
    if common and screen != "app":
        rows += [(k.keys_text, described(k, profile)) for k in keys_for("app")]
    return rows


def readme_table() -> list[str]:
    """The README's key table, one line per row (header included)."""
    lines = ["| 画面 | キー | 動作 |", "|---|---|---|"]
    for k in KEYS:
        keys = " ".join(f"`{key_text(key)}`" for key in k.keys)
        lines.append(f"| {SCREENS[k.screen]} | {keys} | {k.description} |")
    return lines


if __name__ == "__main__":  # python -m screens.commands: the README's key table
    print("\n".join(readme_table()))
