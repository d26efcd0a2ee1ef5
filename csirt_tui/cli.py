"""Command line: ``csirt-desk [--store DIR] [--profile ID] [--operator NAME] <command>``.

With no command the full-screen desk (Textual) starts. Every other command
is scriptable (alerts, cron, tests) and never imports Textual.

Exit status: 0 success, 1 a domain error (one line on stderr), 2 usage.

Whatever the console's encoding (cp932 when a Japanese Windows redirects the
output, ascii, …): ``--json`` and ``list --csv -`` are UTF-8 bytes; the text for
people shows what the console cannot as its code point (see ``_console_visible``);
standard input is read as UTF-8 (else in the console's encoding).
"""

from __future__ import annotations

import argparse
import codecs
import functools
import getpass
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from .errors import DomainError, StoreCorruptError

ENV_OPERATOR = "CSIRT_DESK_OPERATOR"


# argparse's own words are English (its gettext catalogue has no Japanese): its messages, in the
# desk's words. Longer ones first; 「argument X: 」 last, it heads the others.
_ARGPARSE_JA = [(re.compile(pattern), ja) for pattern, ja in (
    (r"the following arguments are required: (.*)", r"次の引数が必要です: \1"),
    (r"one of the arguments (.*) is required", r"次の引数のどれかが必要です: \1"),
    (r"unrecognized arguments: (.*)", r"使えない引数です: \1"),
    (r"invalid choice: (.*) \(choose from (.*)\)", r"その値は選べません: \1（選べるもの: \2）"),
    (r"invalid \w+ value: (.*)", r"値が正しくありません: \1"),
    (r"expected one argument", "値を1つ指定してください"),
    (r"expected at least one argument", "値を1つ以上指定してください"),
    (r"expected (\d+) arguments?", r"値を \1 個指定してください"),
    (r"ambiguous option: (\S+) could match (.*)", r"オプション \1 はどれのことか決まりません: \2"),
    (r"not allowed with argument (\S+)", r"\1 と一緒には使えません"),
    (r"ignored explicit argument (.*)", r"値は指定できません: \1"),
    (r"^argument (\S+): ", r"\1: "),
)]


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix if prefix is not None else "使い方: ")


class _Parser(argparse.ArgumentParser):
    """argparse in Japanese: usage, headings, -h and usage errors (the handler at the isolated
    terminal reads them: 「usage:」「the following arguments are required: FILE」 were English)."""

    def __init__(self, *args, add_help: bool = True, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "引数"
        self._optionals.title = "オプション"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="この説明を表示して終わる")

    def error(self, message: str):  # usage errors: exit 2, one line
        for pattern, ja in _ARGPARSE_JA:
            message = pattern.sub(ja, message)
        self.print_usage(sys.stderr)
        self.exit(2, f"csirt-desk: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="csirt-desk", description="自治体CSIRT インシデント受付・対応デスク")
    p.add_argument("--store", metavar="DIR", help="ストアのフォルダ (既定: $CSIRT_DESK_STORE またはユーザーデータフォルダ)")
    p.add_argument("--profile", metavar="ID", help="組織プロファイル (新しいストアの作成時に記憶されます)")
    p.add_argument("--operator", metavar="NAME", help=f"操作者名 (既定: ${ENV_OPERATOR} またはログイン名)")
    p.add_argument("--version", action="version", version=_version(), help="版を表示して終わる")
    sub = p.add_subparsers(dest="command", metavar="<command>", parser_class=_Parser)

    s = sub.add_parser("profiles", help="組織プロファイルの一覧")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("demo", help="デモ用のインシデントをストアに作る")
    s.add_argument("--incidents", type=int, metavar="N", help="N 件の大きなストアを作る (ベンチマーク用)")
    s.add_argument("--entries", type=int, default=20, metavar="M", help="1 件あたりの記録数 (--incidents と共に)")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--years", type=int, default=5, metavar="Y", help="受付日を過去 Y 年に散らす (--incidents と共に)")
    s.add_argument("--open", type=int, default=50, metavar="K",
                   help="うち対応中の件数 (ほかは収束・インシデントではない。--incidents と共に)")

    s = sub.add_parser("intake", help="受付を記録する (JSON)")
    s.add_argument("--json", required=True, metavar="FILE", help="JSON ファイル、または - で標準入力")
    s.add_argument("--drill", action="store_true", help="訓練として受け付ける (受付の記録に残り、件数に数えない)")

    s = sub.add_parser("poc", help="PoC (窓口) の連絡先カード")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("drill", help="訓練・演習 (シナリオ、訓練の記録、講評)")
    dsub = s.add_subparsers(dest="drill_command", metavar="<list|show|start|mark|unmark|review>", required=True)
    d = dsub.add_parser("list", help="このプロファイルの訓練シナリオの一覧")
    d.add_argument("--json", action="store_true")
    d = dsub.add_parser("show", help="シナリオ (通報者が話す内容と、各段階で期待する対応)")
    d.add_argument("scenario", metavar="SCENARIO")
    d = dsub.add_parser("start", help="シナリオから訓練の受付を記録する (番号を表示)")
    d.add_argument("scenario", metavar="SCENARIO")
    d.add_argument("--json", metavar="FILE",
                   help="受付の内容 (intake --json と同じ形。省略するとシナリオの通報者の内容のまま)")
    d = dsub.add_parser("mark", help="インシデントを訓練として記録する (新しい記録として残ります)")
    d.add_argument("id")
    d.add_argument("--note", default="", metavar="TEXT", help="メモ (だれの指示の訓練か など)")
    d = dsub.add_parser("unmark", help="訓練の指定を取り消す (新しい記録として残ります。理由が必要)")
    d.add_argument("id")
    d.add_argument("--note", required=True, metavar="TEXT", help="取り消す理由")
    d = dsub.add_parser("review", help="訓練の講評 (シナリオの期待と記録、時間)。--pdf で PDF に", allow_abbrev=False)
    d.add_argument("id")
    d.add_argument("--pdf", metavar="PATH", help="出力先のファイル (…pdf。出力は記録に残ります)")
    _report_options(d)

    s = sub.add_parser("list", help="インシデントの一覧")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", metavar="PATH",
                     help="CSV (Excel 用: UTF-8 BOM 付き、CRLF) に書き出す。- で標準出力")
    s.add_argument("--all", action="store_true", help="収束・非インシデントも含める")
    s.add_argument("--force", action="store_true", help="--csv のファイルが既にあれば上書きする")

    s = sub.add_parser("show", help="インシデントと記録のすべて")
    s.add_argument("id")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("log", help="記録にメモを追加する")
    s.add_argument("id")
    s.add_argument("text", nargs="?", help="メモ (長いメモ・ログの貼り付けは --file で)")
    s.add_argument("--file", metavar="FILE",
                   help="メモを書いた UTF-8 ファイル、または - で標準入力 (コマンド行の長さの上限を超えるメモに)")
    s.add_argument("--at", metavar="TIME", help="出来事の時刻 (例: 14:30, 今朝9時)")

    # allow_abbrev=False: "--password x" must not be taken for "--password-file x"
    s = sub.add_parser("export", help="報告様式1 を PDF に出力する (出力は記録に残ります)", allow_abbrev=False)
    s.add_argument("id")
    s.add_argument("--pdf", required=True, metavar="PATH", help="出力先のファイル (…pdf)")
    _report_options(s)
    s.add_argument("--kind", choices=("occurrence", "closure"), default="occurrence",
                   help="occurrence=発生報告 (既定), closure=収束報告")
    s.add_argument("--recipient", default="", metavar="TEXT",
                   help="外部に提供する場合の提供先 (総務省・警察など。記録と報告様式1 の 7 に残ります)")
    s.add_argument("--permitted-by", default="", metavar="NAME",
                   help="外部への提供を許可した者 (プロファイルに外部提供の許可の定めがある組織で必要。"
                        "だれの許可か・どの分類からかはプロファイルの定めのとおり)")

    s = sub.add_parser("summary", help="期間のインシデント集計 (委員会・CISO など、プロファイルの報告先向け) を PDF に出力する", allow_abbrev=False)
    s.add_argument("--from", dest="start", required=True, metavar="DATE", help="期間の初日 (例: 2026-11-01, 令和8年11月1日)")
    s.add_argument("--to", dest="end", required=True, metavar="DATE", help="期間の末日 (その日を含む。年を省くと今年)")
    s.add_argument("--pdf", required=True, metavar="PATH", help="出力先のファイル (…pdf)")
    _report_options(s)

    from .report.content import REPORT_FIELDS

    s = sub.add_parser("report-text", help="報告様式1 の記載 (原因・被害・対応など) を記録する")
    s.add_argument("id")
    s.add_argument("field", choices=list(REPORT_FIELDS), metavar="FIELD",
                   help="項目: " + ", ".join(f"{k}（{v.split('（')[0]}）" for k, v in REPORT_FIELDS.items()))
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--text", metavar="TEXT", help="記載する文 (そのまま記録します)")
    g.add_argument("--file", metavar="FILE", help="記載を書いた UTF-8 ファイル、または - で標準入力")

    s = sub.add_parser("threat", help="報告様式1 の 3 (原因) の脅威の種類を記録する (ポリシーの「対象とする脅威」から)")
    s.add_argument("id")
    s.add_argument("kind", nargs="?", metavar="KIND", help="脅威の種類の id (省略: 一覧と今の指定を表示)")
    s.add_argument("--none", action="store_true", help="指定を取り消す (記録に残ります)")

    s = sub.add_parser("verify", help="全ファイルとハッシュチェーンを検査する (ID で 1 件だけ)")
    s.add_argument("id", nargs="?", help="インシデント番号 (その記録・チェーン・台帳の最新だけを検査)")
    s.add_argument("--changed", action="store_true",
                   help="前回 問題のなかった検査の後に書かれた分だけを検査する (書かれていないインシデントと"
                        "それより前の台帳は読み直しません: それは verify 全体で)")
    sub.add_parser("backup", help="バックアップを作る")
    s = sub.add_parser("restore", help="バックアップから復元する (現在のファイルは退避)")
    s.add_argument("name", nargs="?", help="バックアップ名 (既定: 最新)")
    s.add_argument("--list", action="store_true", help="バックアップの一覧")
    sub.add_parser("reindex", help="一覧用の索引を記録から作り直す")

    s = sub.add_parser("drafts", help="下書きの一覧 (保存前の受付・書きかけのメモや入力)。drafts discard ID で破棄")
    s.add_argument("--discarded", action="store_true", help="破棄した下書き (だれがいつ破棄したか、中身) の一覧")
    s.add_argument("--json", action="store_true")
    dsub = s.add_subparsers(dest="drafts_command", metavar="[discard]")
    d = dsub.add_parser("discard", help="下書きを破棄する (中身はストアに残り、だれがいつ破棄したかを記録)")
    d.add_argument("ids", nargs="+", metavar="ID", help="下書きの ID (drafts の一覧の 1 列目)")

    s = sub.add_parser("review", help="手順の評価・見直し (定期的な見直しの記録と、次の見直しの時期)")
    rsub = s.add_subparsers(dest="review_command", metavar="<add|list>", required=True)
    r = rsub.add_parser("add", help="評価・見直しを記録する (記録は変えられません。訂正は --corrects)")
    r.add_argument("--who", required=True, metavar="NAME", help="評価・見直しを行った者 (氏名・役割)")
    r.add_argument("--on", dest="when", required=True, metavar="DATE", help="評価・見直しの日 (例: 2026-11-20, 11/20)")
    r.add_argument("--subject", required=True, metavar="TEXT", help="対象 (手順・計画のどこを見直したか)")
    r.add_argument("--changes", required=True, metavar="TEXT", help="見直しの内容 (変更すること。なければ「変更なし」)")
    r.add_argument("--incident", dest="incidents", action="append", default=[], metavar="ID",
                   help="見直しに使った、収束したインシデントの評価 (繰り返し指定できます)")
    r.add_argument("--note", default="", metavar="TEXT", help="メモ")
    r.add_argument("--corrects", type=int, metavar="NO", help="訂正する見直しの記録の番号")
    r = rsub.add_parser("list", help="評価・見直しの記録と次の見直しの時期")
    r.add_argument("--json", action="store_true")

    s = sub.add_parser("bundle", help="隔離端末などとインシデントを持ち出す・取り込む (バンドル)")
    bsub = s.add_subparsers(dest="bundle_command", metavar="<export|import>", required=True)
    b = bsub.add_parser("export", help="インシデントをバンドルに書き出す (持ち出し)", allow_abbrev=False)
    b.add_argument("file", metavar="FILE", help="書き出すバンドルのファイル (…bundle)")
    b.add_argument("ids", nargs="*", default=[], metavar="ID", help="インシデント番号 (省略: すべて)")
    b.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)
    b.add_argument("--password-file", metavar="FILE",
                   help="バンドルを暗号化するパスワードを 1 行目に書いたファイル、または - で標準入力")
    b.add_argument("--waive-reason", metavar="TEXT", default="",
                   help="暗号化せずに持ち出す理由 (機密性2以上は暗号化して持ち出すのが原則。記録に残ります)")
    b.add_argument("--desk", metavar="NAME", help="このデスクの名前 (例: 本庁デスク)。相手の画面に出ます")
    b.add_argument("--for", dest="for_desk", metavar="DESK",
                   help="相手のデスク (名前か番号)。そのデスクにまだ渡していない記録だけを書き出す")
    b.add_argument("--drafts", action="store_true",
                   help="書きかけの下書き (そのインシデントのもの。すべてのときは保存前の受付も) も入れる")
    b.add_argument("--force", action="store_true", help="書き出し先のファイルが既にあれば上書きする")
    b = bsub.add_parser("import", help="バンドルを取り込む (取り込み)", allow_abbrev=False)
    b.add_argument("file", metavar="FILE", help="取り込むバンドルのファイル")
    b.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)
    b.add_argument("--password-file", metavar="FILE", help="暗号化されたバンドルのパスワードのファイル、または -")
    b.add_argument("--dry-run", action="store_true", help="何が変わるかを表示するだけで、取り込まない")
    b.add_argument("--desk", metavar="NAME", help="このデスクの名前 (例: 隔離端末1)")
    return p


class _RefusePassword(argparse.Action):
    """``--password VALUE`` on the command line: refused without echoing the value
    (argparse would print an unknown option's value in its message)."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error("パスワードはコマンド行に書けません（他の利用者やシェルの履歴から見えます）。"
                     "--password-file FILE（または - で標準入力）を使ってください")


def _report_options(s: argparse.ArgumentParser) -> None:
    s.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)
    s.add_argument("--password-file", metavar="FILE",
                   help="PDF のパスワードを 1 行目に書いたファイル、または - で標準入力 (コマンド行には書かない)")
    s.add_argument("--waive-reason", metavar="TEXT", default="",
                   help="機密性2以上を暗号化せずに出力する理由 (記録に残ります)")
    s.add_argument("--font", metavar="PATH", help="日本語フォント (TrueType。.ttc は PATH#番号)")
    s.add_argument("--force", action="store_true", help="出力先のファイルが既にあれば上書きする")


def _version() -> str:
    from . import __version__

    return f"csirt-desk {__version__}"


def operator_name(args) -> str:
    if args.operator:
        return args.operator
    env = os.environ.get(ENV_OPERATOR)
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no login name
        return "operator"


# ------------------------------------------------------------------ console
_CONSOLE_ERRORS = "csirt-desk-visible"

# One JIS X 0208 character under two code points: 1-29 「―」 is U+2014 in the JIS
# (and Apple) mapping, U+2015 in cp932 and Python's Japanese codecs, which cannot
# encode U+2014. Printed as the console's code, it is the dash that was written.
# (〜 U+301C, ‖ U+2016, − U+2212, ¢ £ ¬ are encoded by Python's cp932 already.)
_SAME_JIS_CHARACTER = {"\u2014": "\u2015"}
# textsafe's mark for a bidi control, ⟨U+202E⟩, whose brackets cp932 does not have
_TEXTSAFE_MARK = re.compile("\u27e8(U\\+[0-9A-F]{4,6})\u27e9")


@functools.lru_cache(maxsize=64)
def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except (UnicodeError, LookupError):
        return False
    return True


def _console_visible(err: UnicodeError):
    """Encoding error handler for the console: a character the console's encoding
    cannot show is written as its code point, 〈U+1F600〉 (<U+1F600> where the
    encoding has no 〈〉, e.g. ascii): visible, never dropped, never a traceback."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    enc = err.encoding.lower().replace("_", "-")  # "charmap" for the one-byte code pages: ASCII marks
    utf8 = enc in ("utf-8", "utf8")  # only a lone surrogate fails there
    wide = utf8 or not enc.startswith("utf") and _encodable("\u3008\u3009", enc)
    left, right = ("\u3008", "\u3009") if wide else ("<", ">")
    text, i, out = err.object, err.start, []
    while i < err.end:
        ch = text[i]
        mark = _TEXTSAFE_MARK.match(text, i)
        if mark:
            out.append(f"{left}{mark.group(1)}{right}")
            i = mark.end()
            continue
        alt = _SAME_JIS_CHARACTER.get(ch)
        out.append(alt if alt and not utf8 and _encodable(alt, enc) else f"{left}U+{ord(ch):04X}{right}")
        i += 1
    replacement = "".join(out)
    # the UTF-8 encoder takes a replacement str only if it is ASCII: give it the bytes
    return (replacement.encode("utf-8") if utf8 else replacement), i


def _is_utf(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name.startswith("utf-")
    except LookupError:
        return False


def _console_setup():
    """Make sys.stdout and sys.stderr show what their encoding cannot (``_console_visible``)
    instead of raising: always when the encoding is not UTF-8, and for a UTF-8 stream
    with strict errors (only a lone surrogate can fail there). Streams without
    ``reconfigure`` (replaced by a caller, None under pythonw) are left alone.
    Returns the function that puts the previous settings back."""
    codecs.register_error(_CONSOLE_ERRORS, _console_visible)
    changed = []
    for stream in {id(s): s for s in (sys.stdout, sys.stderr) if s is not None}.values():
        encoding, errors = getattr(stream, "encoding", None), getattr(stream, "errors", None)
        if not isinstance(encoding, str) or errors == _CONSOLE_ERRORS:
            continue
        if _is_utf(encoding) and errors != "strict":
            continue
        try:
            stream.reconfigure(errors=_CONSOLE_ERRORS)
        except Exception:  # no reconfigure, closed, not a TextIOWrapper …
            continue
        changed.append((stream, errors))

    def restore() -> None:
        for stream, errors in changed:
            try:
                stream.reconfigure(errors=errors)
            except Exception:  # e.g. a pipe closed by the reader
                pass

    return restore


def _write_bytes(data: bytes) -> None:
    """``data`` on stdout as they are (JSON, CSV: UTF-8 whatever the console's encoding)."""
    stream = sys.stdout
    if stream is None:  # no console at all (pythonw)
        return
    out = getattr(stream, "buffer", None)
    if out is None:  # a text-only stream (e.g. replaced in tests)
        stream.write(data.decode("utf-8"))
        return
    stream.flush()
    out.write(data)
    out.flush()


def _stdin_text(*, line: bool = False) -> str:
    """Standard input (all of it, or its first line) as text. UTF-8 (a BOM dropped)
    whatever the console's encoding, like the files the commands read; input that is
    not UTF-8 is read in the console's encoding (e.g. cp932 from ``type`` on Japanese
    Windows). Line ends as in text mode: \\r\\n and \\r become \\n."""
    stream = sys.stdin
    if stream is None:
        raise DomainError("標準入力がありません")
    raw = getattr(stream, "buffer", None)
    if raw is None:  # a text-only stream (e.g. replaced in tests)
        return stream.readline() if line else stream.read()
    data = raw.readline() if line else raw.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        console = getattr(stream, "encoding", None) or "utf-8"
        try:
            text = data.decode(console)
        except (UnicodeDecodeError, LookupError):
            also = "" if _is_utf(console) else f"（{console} としても読めません）"
            raise DomainError(f"標準入力: UTF-8 のテキストとして読めません{also}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


_OPENED: list = []  # the stores a command opened: what they noticed is said when it ends


def _store(args, *, create: bool = True):
    from .store import Store, resolve_store_dir

    store = Store.open(resolve_store_dir(args.store), profile=args.profile, create=create)
    _OPENED.append(store)
    if isinstance(getattr(args, "id", None), str) and "@" in args.id:  # 2026-0003@隔離端末1: another desk's number
        from .uids import resolve

        args.id = resolve(store, args.id)
    return store


def _profile_of(args):
    """The store's profile; without a store (nothing recorded yet), --profile or the default."""
    from .store import resolve_store_dir

    if (resolve_store_dir(args.store) / "store.json").exists():
        return _store(args, create=False).profile
    from .profiles import DEFAULT_PROFILE_ID, load_profile

    return load_profile(args.profile or DEFAULT_PROFILE_ID)


def _say_notices() -> None:
    """A stale index made again from the record (or one that could not be, read-only):
    said on stderr, never silently."""
    while _OPENED:
        for notice in _OPENED.pop().take_notices():
            print(f"csirt-desk: 注意: {_one_line(notice)}", file=sys.stderr)


def _print_json_rows(rows) -> None:
    """A JSON array of ``rows`` (an iterable), written row by row: the same text as
    ``_print_json(list(rows))`` without holding the list."""
    from .textsafe import json_for_terminal

    first, chunk, size = True, [], 0
    for row in rows:
        text = "\n".join("  " + line for line in json_for_terminal(row).split("\n"))
        chunk.append((("[\n" if first else ",\n") + text).encode("utf-8"))
        size += len(chunk[-1])
        first = False
        if size > 1 << 16:  # written 64 KB at a time
            _write_bytes(b"".join(chunk))
            chunk, size = [], 0
    chunk.append(b"[]\n" if first else b"\n]\n")
    _write_bytes(b"".join(chunk))


class _Progress:
    """verify's progress on stderr: nothing for a check that takes under 2 s; then a line
    every 5 s (a terminal: one line rewritten twice a second)."""

    def __init__(self) -> None:
        import time

        self._clock = time.monotonic
        self._start = self._clock()
        self._tty = sys.stderr.isatty()
        self._last = float("-inf")  # the first line as soon as 2 s have passed
        self._shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self._clock()
        if now - self._start < 2.0 or (now - self._last < (0.5 if self._tty else 5.0) and done != total):
            return
        if done == total and not self._shown:
            return
        self._last, self._shown = now, True
        what = {"files": "ファイル", "index": "索引 (年ごと)", "ledger": "台帳", "folders": "インシデントのフォルダ (年ごと)",
                "incidents": "インシデントの記録", "backup": "最新のバックアップとの照合"}[stage]
        count = f"{done:,} / {total:,} ({done * 100 // max(total, 1)}%)" if total else f"{done:,}"
        line = f"verify: {what} {count}"
        if self._tty:
            print(f"\r{line}\x1b[K", end="\n" if done == total else "", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)


def _print_json(obj: Any) -> None:
    from .textsafe import json_for_terminal

    _write_bytes((json_for_terminal(obj) + "\n").encode("utf-8"))


def _plain(text: str) -> str:
    """Text for a terminal line: control characters (ESC, OSC …) made visible, not obeyed."""
    from .textsafe import printable

    return printable(text)


def _one_line(text: str) -> str:
    from .textsafe import one_line

    return one_line(" / ".join(part.strip() for part in text.splitlines() if part.strip()))


# ------------------------------------------------------------------ commands
def cmd_profiles(args) -> int:
    from .profiles import list_profiles, load_profile

    infos = list_profiles()
    if args.json:
        _print_json([{"id": i.id, "name": i.name, "default": i.default, "path": str(i.path),
                      "shared_from": load_profile(i.id).shared_from} for i in infos])
        return 0
    for i in infos:
        mark = "*" if i.default else " "
        prof = load_profile(i.id)
        shared = ", ".join(f"{k}←{v}" for k, v in prof.shared_from.items())
        print(f"{mark} {i.id:<10} {i.name}" + (f"  (共有: {shared})" if shared else ""))
    return 0


def cmd_demo(args) -> int:
    from .demo import build_demo, build_large

    store = _store(args)
    if args.incidents:
        n = build_large(store, incidents=args.incidents, entries=args.entries, seed=args.seed,
                        years=args.years, open_count=args.open)
        print(f"{n} 件のインシデントを作成しました ({store.root})")
    else:
        existing = store.count_incidents()
        if existing:  # running the README's first command again must not double the demo
            print(f"ストアには既に {existing} 件あります。デモは追加しません ({store.root})")
            return 0
        ids = build_demo(store, operator=operator_name(args))
        print(f"デモ: {len(ids)} 件のインシデントを作成しました ({store.root})")
    return 0


def cmd_intake(args) -> int:
    from .intake import build_intake

    try:
        if args.json == "-":
            raw = json.loads(_stdin_text())
        else:
            with open(args.json, encoding="utf-8-sig") as fh:
                raw = json.load(fh)
    except FileNotFoundError:
        raise DomainError(f"{args.json}: ファイルがありません") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DomainError(f"{args.json}: JSON として読めません: {err}") from None
    store = _store(args)
    if args.drill:
        from .drill import start_drill

        if not isinstance(raw, dict):
            raise DomainError("受付データは JSON オブジェクトで指定してください")
        inc = start_drill(store, raw, operator=operator_name(args), strict=True)
    else:
        intake = build_intake(store.profile, raw, store.now())
        inc = store.create_incident(intake, operator=operator_name(args))
    print(inc.id)
    return 0


def _read_json_arg(name: str) -> Any:
    try:
        if name == "-":
            return json.loads(_stdin_text())
        with open(name, encoding="utf-8-sig") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise DomainError(f"{name}: ファイルがありません") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DomainError(f"{name}: JSON として読めません: {err}") from None


def cmd_poc(args) -> int:
    from .poc import poc_card

    card = poc_card(_profile_of(args))
    if args.json:
        _print_json([{"label": label, "value": value} for label, value in card])
        return 0
    for label, value in card:
        print(_plain(f"{label}: {value}"))
    return 0


def cmd_drill(args) -> int:
    from . import drill
    from .response import mark_drill

    command = args.drill_command
    if command in ("list", "show"):
        profile = _profile_of(args)
        if command == "list":
            scenarios = drill.load_scenarios(profile)
            if args.json:
                _print_json([{"id": sc.id, "title": sc.title, "source": sc.source} for sc in scenarios])
            for sc in scenarios if not args.json else ():
                print(_plain(f"{sc.id:<28} {sc.title}  ({sc.source})"))
            return 0
        for line in drill.scenario_text_lines(profile, drill.find_scenario(profile, args.scenario)):
            print(_plain(line))
        return 0
    if command == "start":
        store = _store(args)
        sc = drill.find_scenario(store.profile, args.scenario)
        raw = _read_json_arg(args.json) if args.json else drill.caller_intake(sc)
        if not isinstance(raw, dict):
            raise DomainError("受付データは JSON オブジェクトで指定してください")
        inc = drill.start_drill(store, raw, operator=operator_name(args), scenario=sc, strict=bool(args.json))
        print(inc.id)
        return 0
    store = _store(args, create=False)
    if command in ("mark", "unmark"):
        entry = mark_drill(store, args.id, operator=operator_name(args), drill=command == "mark", note=args.note)
        print(f"記録: {entry.id}  {_one_line(entry.text)}")
        return 0
    if not args.pdf:
        for line in drill.review_text_lines(drill.review(store.profile, store.incident(args.id))):
            print(_plain(line))
        return 0
    from .report.drillreview import export_review

    password = read_password(args.password_file)
    result = export_review(store, args.id, args.pdf, operator=operator_name(args), password=password,
                           waive_reason=args.waive_reason or "", font=args.font, force=args.force)
    _report_done(result, "【訓練】訓練の講評", args.waive_reason or "")
    return 0


def cmd_list(args) -> int:
    store = _store(args)
    # the open incidents: open.json alone; --all: one year's index in memory at a time
    rows = store.iter_incidents() if args.all else store.list_incidents(status="open")
    if args.json:
        _print_json_rows(rows)
        return 0
    if args.csv is not None:
        return _list_csv(store, rows, args.csv, force=args.force)
    from .views import plain_row_cells

    prof = store.profile
    now = store.now()
    for r in rows:
        print("  ".join(_plain(c) for c in plain_row_cells(prof, r, now)))
    return 0


def _list_csv(store, rows: Iterable[dict[str, Any]], target: str, *, force: bool = False) -> int:
    """The list as CSV for a spreadsheet: the text as typed, a cell a spreadsheet would
    run as a formula guarded with a leading ' (see csvexport). To a file: written
    atomically, mode 0600. To ``-``: the bytes on stdout; when stdout is a terminal,
    control characters are shown as symbols instead (a terminal would obey them).
    Streamed like ``list --all --json``: the rows are written as they are read, about
    64 KB at a time (a file: into its temp file, put in place once whole)."""
    from .csvexport import incidents_csv_chunks, write_csv

    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    if target == "-":
        clean = None
        if sys.stdout.isatty():
            from .textsafe import printable

            clean = printable
        for chunk in incidents_csv_chunks(store.profile, rows, clean=clean):
            _write_bytes(chunk)
        return 0
    path = write_csv(target, incidents_csv_chunks(store.profile, counted()), store_root=store.root, force=force)
    print(f"{count} 件を CSV に書き出しました: {_plain(str(path))}")
    return 0


def cmd_show(args) -> int:
    store = _store(args, create=False)
    inc = store.incident(args.id)
    if args.json:
        from dataclasses import asdict

        doc = {k: v for k, v in asdict(inc).items() if k != "entries"}
        doc["timeline"] = [e.to_dict() for e in inc.entries]
        _print_json(doc)
        return 0
    from .merge import exchange_lines
    from .views import chrome_lines, incident_text_lines, intake_labels

    # as the incident screen draws it: the desk's 「—」, ①いつ, → and ← with one-width characters
    # (two cells in a cp932 console, the text after them moved); what was typed as typed
    for line in chrome_lines(incident_text_lines(store.profile, inc, exchange_lines(store, inc)),
                             intake_labels(store.profile)):
        print(_plain(line))
    return 0


def cmd_log(args) -> int:
    if (args.text is None) == (args.file is None):
        raise DomainError("メモは TEXT か --file のどちらか一方で指定してください")
    text = args.text if args.file is None else _read_text_file(args.file, "--file")
    store = _store(args, create=False)
    occurred = None
    if args.at:
        from .timeparse import TimeParseError, parse_time, to_iso

        try:
            occurred = to_iso(parse_time(args.at, store.now()))
        except TimeParseError as err:
            raise DomainError(f"--at: {err}") from None
    entry = store.append(args.id, "note", text, operator=operator_name(args), occurred_at=occurred)
    print(entry.id)
    return 0


def _read_text_file(name: str, what: str) -> str:
    """The whole text of ``name`` (UTF-8, a BOM dropped; ``-`` = stdin)."""
    if name == "-":
        return _stdin_text()
    try:
        with open(name, encoding="utf-8-sig", newline="") as fh:
            return fh.read()
    except FileNotFoundError:
        raise DomainError(f"{what} {name}: ファイルがありません") from None
    except IsADirectoryError:
        raise DomainError(f"{what} {name}: フォルダです。ファイルを指定してください") from None
    except PermissionError:
        raise DomainError(f"{what} {name}: 読む権限がありません") from None
    except UnicodeDecodeError:
        raise DomainError(f"{what} {name}: UTF-8 のテキストとして読めません") from None
    except OSError as err:
        raise DomainError(f"{what} {name}: 読めません（{err.strerror or err}）") from None


def _strip_newline(line: str) -> str:
    """``line`` without its line terminator (only that: spaces are part of it)."""
    for end in ("\r\n", "\n", "\r"):
        if line.endswith(end):
            return line[: -len(end)]
    return line


def read_password(name: str | None) -> str | None:
    """The PDF password: the first line of the file ``name`` without its newline
    (``-`` = stdin; asked without echo when stdin is a terminal). Never taken from
    the command line, never printed; errors name the file, not its content."""
    if name is None:
        return None
    if name == "-" and sys.stdin is not None and sys.stdin.isatty():
        password = getpass.getpass("PDF のパスワード: ")
    elif name == "-":
        password = re.split("\r\n|\r|\n", _stdin_text(line=True), maxsplit=1)[0]
    else:
        first = _read_text_file(name, "--password-file").split("\n", 1)[0]
        password = first[:-1] if first.endswith("\r") else first
    if not password:
        raise DomainError("--password-file: パスワードが空です（1 行目に書いてください）")
    return password


def _report_done(result, what: str, waive_reason: str) -> None:
    if result.encrypted:
        how = "暗号化あり（AES-256）"
    elif waive_reason.strip():
        how = f"暗号化なし（理由: {_one_line(waive_reason)}）"
    else:
        how = "暗号化なし"
    print(f"{what}を出力しました: {_plain(str(result.path))}")
    print(f"{result.pages} ページ、{_plain(result.classification)}、{how}")
    if result.entry is not None:
        print(f"記録: {result.entry.id}")
    if result.warning:
        print(f"csirt-desk: 注意: {_one_line(result.warning)}", file=sys.stderr)


def cmd_export(args) -> int:
    from .report.export import export_form1

    password = read_password(args.password_file)
    store = _store(args, create=False)
    result = export_form1(store, args.id, args.pdf, operator=operator_name(args), variant=args.kind,
                          password=password, waive_reason=args.waive_reason or "", font=args.font,
                          force=args.force, recipient=args.recipient, permitted_by=args.permitted_by)
    _report_done(result, "報告様式1", args.waive_reason or "")
    return 0


def _parse_day(text: str, option: str, now):
    from .timeparse import TimeParseError, parse_day

    try:
        return parse_day(text, now)
    except TimeParseError as err:
        raise DomainError(f"{option}: {err}") from None


def cmd_summary(args) -> int:
    from .report.summary import export_summary

    store = _store(args, create=False)
    start = _parse_day(args.start, "--from", store.now())
    end = _parse_day(args.end, "--to", store.now())
    if end < start:
        raise DomainError(f"--to の日付 ({end:%Y-%m-%d}) が --from ({start:%Y-%m-%d}) より前です")
    password = read_password(args.password_file)
    result = export_summary(store, args.pdf, start=start, end=end, operator=operator_name(args),
                            password=password, waive_reason=args.waive_reason or "", font=args.font,
                            force=args.force)
    _report_done(result, f"集計（{start:%Y-%m-%d}〜{end:%Y-%m-%d}）", args.waive_reason or "")
    return 0


def cmd_report_text(args) -> int:
    from .report.content import set_report_text

    if args.text is not None:
        text = args.text
    else:
        text = _read_text_file(args.file, "--file")
        text = _strip_newline(text)  # the file's last line terminator is not part of the text
    store = _store(args, create=False)
    entry = set_report_text(store, args.id, args.field, text, operator=operator_name(args))
    if entry is None:
        print("変更はありません（記録済みの記載と同じ、または空です）")
    else:
        print(entry.id)
    return 0


def cmd_verify(args) -> int:
    if args.id and args.changed:
        raise DomainError("verify ID と --changed は一緒に使えません")
    store = _store(args, create=False)
    if args.id:
        store.incident(args.id)  # an unknown id is said so, not reported as a missing file
        report = store.verify_incident(args.id)
    else:
        report = (store.verify_changed if args.changed else functools.partial(store.verify, mark=True))(progress=_Progress())
        if args.changed and report.full:
            print("csirt-desk: 注意: 前回の検査の記録がないため、全体を検査しました", file=sys.stderr)
    for cut in report.closings:
        print(f"csirt-desk: 注意: {cut} の書き込みは途中で止まりました (停電・強制終了など)。"
              "その書き込みは記録されていません (番号はその後の記録が使っていることがあります)", file=sys.stderr)
    for where, problem in store.take_set_aside():
        print(f"csirt-desk: 注意: 壊れた下書きを退避しました: {_plain(str(where))} ({_plain(problem)})", file=sys.stderr)
    if report.ok:
        print(f"OK: {report.files} ファイル, {report.incidents} 件, {report.entries} 記録")
        return 0
    for problem in report.problems:
        print(_plain(problem), file=sys.stderr)
    print(f"NG: {len(report.problems)} 件の問題 (最初: {_plain(report.problems[0])})", file=sys.stderr)
    return 1


def cmd_backup(args) -> int:
    """A backup of what is intact, always; a damaged year index file is named (stderr, exit 1),
    left out of the backup's store and kept beside it (backup.make). The index is made again
    from the record (reindex), and the record is what a backup is for: refusing the whole
    backup over it would leave the desk with none at all."""
    from .store import Store, resolve_store_dir, year_index_path

    try:
        store = _store(args, create=False)
    except StoreCorruptError as err:
        if not year_index_path(err.path):
            raise
        store = Store.open(resolve_store_dir(args.store), profile=args.profile, create=False, check_index=False)
    print(store.backup("manual"))
    for problem in store.backup_damaged:
        print(f"csirt-desk: 壊れた索引ファイルはバックアップに入れていません (ほかのファイルは保存しました。"
              f"索引は csirt-desk reindex で記録から作り直せます): {problem}", file=sys.stderr)
    return 1 if store.backup_damaged else 0


def cmd_restore(args) -> int:
    from .store import Store, list_backup_dirs, resolve_store_dir

    root = resolve_store_dir(args.store)
    if args.list:
        for p in list_backup_dirs(root):
            print(p.name)
        return 0
    src = Store.restore(root, args.name)
    print(f"{src.name} から復元しました (元のファイルは backups/ に退避)")
    return 0


def cmd_reindex(args) -> int:
    n = _store(args, create=False).reindex()
    print(f"{n} 件の索引を作り直しました")
    return 0


def cmd_drafts(args) -> int:
    from .draftsave import discard_text, draft_row
    from .views import short_time

    store = _store(args, create=False)
    if args.drafts_command == "discard":
        operator = operator_name(args)
        failed = 0
        for draft_id in args.ids:
            try:
                draft = store.discard_draft(draft_id, operator=operator)
            except DomainError as err:
                print(f"csirt-desk: {_plain(str(err))}", file=sys.stderr)
                failed += 1
                continue
            kind, about, text = draft_row(draft)
            print(_plain(f"破棄しました: {draft_id} {kind} {about} {text}".rstrip()))
        if failed:
            print("(破棄した下書きの中身はストアに残っています: csirt-desk drafts --discarded)", file=sys.stderr)
        return 1 if failed else 0
    drafts = store.list_drafts(status="discarded" if args.discarded else "open", kind=None)
    if args.json:
        _print_json(drafts)
        return 0
    for d in drafts:
        kind, about, text = draft_row(d)
        who = discard_text(d) if args.discarded else f"{short_time(d.get('updated_at'))} {d.get('operator', '')}"
        print(_plain(f"{d['id']}  {kind}  {who}  {about}  {text}".rstrip()))
    if not drafts:
        print("破棄した下書きはありません" if args.discarded else "下書きはありません")
    return 0


def cmd_bundle(args) -> int:
    from .exchange import encrypt_rule, read_and_plan, read_payload, take_in, write_bundle

    password = read_password(args.password_file)
    if args.bundle_command == "export":
        from .store import normalize_incident_id

        store = _store(args, create=False)
        if password is None and not args.waive_reason.strip():  # the rule as the store's profile has it
            raise DomainError(f"{encrypt_rule(store.profile)}: --password-file FILE か --waive-reason TEXT")
        if args.desk is not None:
            store.join_family(store.family, desk=args.desk)
        for_peer = None
        if args.for_desk is not None:
            from .peers import find

            for_peer = find(store, args.for_desk)
        done = write_bundle(store, args.file, ids=[normalize_incident_id(i) for i in args.ids] or None,
                            password=password, waive_reason=args.waive_reason, operator=operator_name(args),
                            force=args.force, for_peer=for_peer, drafts=args.drafts)
        how = "暗号化あり (AES-256-GCM)" if done.encrypted else f"暗号化なし (理由: {_one_line(args.waive_reason)})"
        print(f"バンドルを書き出しました: {_plain(str(done.path))}")
        if for_peer is not None:
            print(f"({_plain(args.for_desk)} にまだ渡していない記録だけです)")
        drafts = f"、下書き {done.drafts} 件" if done.drafts else ""
        print(f"インシデント {done.incidents} 件、記録 {done.entries} 件{drafts}、{how}")
        return 0
    from .store import Store, resolve_store_dir

    root = resolve_store_dir(args.store)
    payload = None
    if not (root / "store.json").exists():
        # no store yet: the bundle is checked and planned as for an empty store before one is
        # made (a refused bundle, or a dry run, leaves nothing behind: a mistyped --store)
        import tempfile

        payload = read_payload(args.file, password=password)
        with tempfile.TemporaryDirectory() as empty:
            plan, _ = read_and_plan(Store.open(Path(empty) / "s", profile=args.profile), args.file,
                                    password=password, payload=payload)
        if args.dry_run:
            for line in plan.lines():
                print(_plain(line))
            print(f"(--dry-run: {_plain(str(root))} にはまだストアがありません。取り込むと作ります。何も取り込んでいません)")
            return 0
    store = _store(args)
    plan, family = read_and_plan(store, args.file, password=password, payload=payload)
    for line in plan.lines():
        print(_plain(line))
    if args.dry_run:
        print("(--dry-run: 何も取り込んでいません)")
        return 0
    changed = take_in(store, plan, family, desk=args.desk, by=operator_name(args))
    if changed:
        print(f"取り込みました: {', '.join(changed)}")
    if plan.drafts:
        print(f"下書き {len(plan.drafts)} 件を取り込みました (下書きの一覧に出ます。まだ記録ではありません)")
    return 0


def cmd_review(args) -> int:
    from . import reviews

    store = _store(args, create=False)
    if args.review_command == "add":
        row = reviews.record_review(store, operator=operator_name(args), reviewer=args.who, reviewed_at=args.when,
                                    subject=args.subject, changes=args.changes, incidents=args.incidents,
                                    note=args.note, corrects=args.corrects)
        print(f"手順の評価・見直しを記録しました: No.{row['no']}")
        return 0
    rows = reviews.list_reviews(store)
    due = reviews.review_due(store, store.now())
    if args.json:
        _print_json({"reviews": rows, "due": due})
        return 0
    for row in rows:
        print(_plain(reviews.review_text(row, store.profile.timezone)))
        print()
    print(_plain(reviews.due_line(due)))
    return 0


def cmd_threat(args) -> int:
    from .report.content import set_threat, threat_choice

    store = _store(args, create=False)
    if args.kind is None and not args.none:
        chosen = threat_choice(store.profile, store.incident(args.id))
        for t in store.profile.threats:
            mark = "*" if chosen and chosen.get("threat") == t["id"] else " "
            print(_plain(f"{mark} {t['id']}  {t['label']}（{t['source']}）: {t['text']}"))
        if not store.profile.threats:
            print("このプロファイルに脅威の種類はありません")
        return 0
    if args.kind is not None and args.none:
        raise DomainError("KIND と --none はどちらか一方で指定してください")
    entry = set_threat(store, args.id, None if args.none else args.kind, operator=operator_name(args))
    print(entry.id if entry else "変更はありません（記録していません）")
    return 0


def cmd_tui(args) -> int:
    from .app import run_app

    return run_app(store_dir=args.store, profile=args.profile, operator=operator_name(args))


COMMANDS = {
    "profiles": cmd_profiles, "demo": cmd_demo, "intake": cmd_intake, "list": cmd_list,
    "show": cmd_show, "log": cmd_log, "verify": cmd_verify, "backup": cmd_backup,
    "restore": cmd_restore, "reindex": cmd_reindex, "export": cmd_export, "summary": cmd_summary,
    "report-text": cmd_report_text, "bundle": cmd_bundle, "drafts": cmd_drafts, "poc": cmd_poc, "drill": cmd_drill,
    "review": cmd_review, "threat": cmd_threat, None: cmd_tui,
}


def main(argv: Sequence[str] | None = None) -> int:
    restore_console = _console_setup()  # before argparse: its help and usage are Japanese too
    try:
        return _main(argv)
    finally:
        restore_console()


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if isinstance(getattr(args, "id", None), str):  # ２０２６－０００７ or 2026-00007 → 2026-0007
            from .store import normalize_incident_id

            args.id = normalize_incident_id(args.id)
        try:
            return COMMANDS[args.command](args)
        finally:
            _say_notices()
    except DomainError as err:
        from .errors import TargetExistsError

        hint = "（上書きするには --force を付けます）" if isinstance(err, TargetExistsError) else ""
        print(f"csirt-desk: {_one_line(str(err))}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `csirt-desk list | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except OSError as err:  # e.g. a full disk, a store folder that cannot be created or read
        import errno

        from .fileout import plain_os_error
        from .jsonfile import FileBusyError

        where = Path(err.filename) if getattr(err, "filename", None) else None
        if where is not None and (isinstance(err, FileBusyError)
                                  or err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)):
            text = plain_os_error(err, where)  # full disk, read-only place …: in plain words, no [Errno 28]
        else:
            text = f"{where}: {err.strerror or err}" if where is not None else (err.strerror or str(err))
        print(f"csirt-desk: {_one_line(text)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
