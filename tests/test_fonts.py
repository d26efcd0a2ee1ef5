"""The report font (csirt_tui.report.pdfkit.find_font, issue 13): IPAexGothic
ships inside the package and is the font of every report on every machine;
a font on the machine only when asked for, the Windows font folders from the
environment; a bare machine without any Japanese font still gets a PDF whose
fonts are all embedded and whose Japanese text shows.

poppler's pdffonts / pdftotext check the PDFs when installed (skipped
otherwise, failed instead with CSIRT_DESK_REQUIRE_FONT=1, as CI sets).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import cli_runner
from csirt_tui.report import pdfkit
from csirt_tui.report.pdfkit import FONT_ENV, find_font

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "assets" / "fonts"
TTF = "ipaexg.ttf"
LICENCE = "IPA_Font_License_Agreement_v1.0.txt"
SHA256 = "3b9955a5e437ffb24c41548e79296fa724822da21ee75dc1b94f6ccdb8f400dd"  # as in assets/fonts/README.md
INTAKE = {"what": "窓口端末で不審なポップアップが表示される", "place": "本庁舎2階 市民課",
          "reporter": {"name": "試験 次郎", "contact": "内線2205"}}


def require(tool: str) -> str:
    exe = shutil.which(tool)
    if exe:
        return exe
    if os.environ.get("CSIRT_DESK_REQUIRE_FONT") == "1":
        pytest.fail(f"{tool} is not installed (poppler-utils); CSIRT_DESK_REQUIRE_FONT=1 needs it")
    pytest.skip(f"{tool} is not installed (poppler-utils)")


@pytest.fixture
def fresh(monkeypatch):
    """find_font as in a new process: nothing cached, nothing asked for."""
    monkeypatch.setattr(pdfkit, "_cache", {})
    monkeypatch.delenv(FONT_ENV, raising=False)


@pytest.fixture
def bare(tmp_path, monkeypatch, fresh):
    """A machine without any font of its own: every system font place (the
    known files, the folders searched by name, ~, %WINDIR%, %LOCALAPPDATA%)
    moved into an empty temporary tree. The packaged font stays."""
    root = tmp_path / "bare"
    for var in ("HOME", "USERPROFILE", "WINDIR", "LOCALAPPDATA"):
        (root / var).mkdir(parents=True)
        monkeypatch.setenv(var, str(root / var))

    def rebase(path: str) -> str:
        if path == pdfkit.PACKAGED_FONT or path.startswith(("~", "%")):
            return path
        return str(root / "fs") + path

    monkeypatch.setattr(pdfkit, "KNOWN_FONTS", tuple((rebase(p), i) for p, i in pdfkit.KNOWN_FONTS))
    monkeypatch.setattr(pdfkit, "FONT_DIRS", tuple((rebase(p), deep) for p, deep in pdfkit.FONT_DIRS))
    packaged = os.path.normpath(pdfkit.PACKAGED_FONT)
    others = [pdfkit._expand(p) for p, _ in pdfkit.KNOWN_FONTS]
    assert [p for p in others if p and p != packaged and os.path.exists(p)] == []
    assert all(str(root) in folder for folder, _ in pdfkit.font_dirs())
    assert pdfkit.find_system_font(TTF) is None
    return root


# ---------------------------------------------------------------------------
# (1) The font ships: in the source tree and in the wheel


def test_the_font_and_its_licence_are_in_the_source_tree():
    font = FONTS / TTF
    assert font.is_file() and font.stat().st_size > 5_000_000
    assert hashlib.sha256(font.read_bytes()).hexdigest() == SHA256  # unmodified, as the licence requires
    licence = (FONTS / LICENCE).read_text(encoding="utf-8")
    assert licence.startswith("IPAフォントライセンスv1.0\n")
    assert "IPA Font License Agreement v1.0" in licence and "Article 3 (Restriction)" in licence
    assert "\n ." not in licence  # plain text, not Debian's copyright-file continuation lines
    readme = (FONTS / "README.md").read_text(encoding="utf-8")
    for want in ("IPAexGothic", "Version 004.01", SHA256, LICENCE, "unmodified"):
        assert want in readme, want
    assert Path(pdfkit.PACKAGED_FONT).resolve() == font.resolve()


def built_wheel(tmp_path: Path) -> Path | None:
    """This checkout built as a wheel and unpacked (the folder holding csirt_tui), or
    None without the build backend: it is built offline (pip's isolated build would
    fetch hatchling from the package index, and the tests have no network)."""
    if importlib.util.find_spec("hatchling") is None:
        return None
    out = tmp_path / "whl"
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                          "-q", "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    (wheel,) = out.glob("csirt_desk-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for name in (TTF, LICENCE, "README.md"):
            assert f"csirt_tui/_assets/fonts/{name}" in names, name
        z.extractall(tmp_path / "site")
    return tmp_path / "site"


def installed_from_this_checkout() -> Path | None:
    """The site folder of a regular (not editable) install of this very source, as
    CI makes with ``pip install '.[test]'``, or None (none, editable, or older)."""
    try:
        dist = importlib.metadata.distribution("csirt-desk")
    except importlib.metadata.PackageNotFoundError:
        return None
    module = Path(dist.locate_file("csirt_tui/report/pdfkit.py"))
    if not module.is_file() or module.read_bytes() != (ROOT / "csirt_tui" / "report" / "pdfkit.py").read_bytes():
        return None
    record = {str(f).replace("\\", "/") for f in dist.files or ()}
    for name in (TTF, LICENCE, "README.md"):
        assert f"csirt_tui/_assets/fonts/{name}" in record, name
    return Path(dist.locate_file(""))


def test_the_wheel_carries_the_font_and_its_licence_and_uses_it(tmp_path):
    site = built_wheel(tmp_path) or installed_from_this_checkout()
    if site is None:
        why = ("no wheel to look into: hatchling (the build backend) is not installed, so none can be built "
               "offline, and csirt-desk is not installed from this checkout (pip install .)")
        if os.environ.get("CSIRT_DESK_REQUIRE_FONT") == "1":
            pytest.fail(why)
        pytest.skip(why)
    fonts = site / "csirt_tui" / "_assets" / "fonts"
    assert hashlib.sha256((fonts / TTF).read_bytes()).hexdigest() == SHA256
    assert (fonts / LICENCE).read_bytes() == (FONTS / LICENCE).read_bytes()
    # run from the wheel's files, not the checkout: the packaged font is found there
    probe = ("import json, csirt_tui.report.pdfkit as p; c = p.find_font(); "
             "print(json.dumps([p.__file__, c.path, c.embedded, c.warning]))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    env.pop(FONT_ENV, None)
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         env=env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    module, path, embedded, warning = json.loads(res.stdout)
    assert Path(module).resolve().is_relative_to(site.resolve())
    assert Path(path).resolve() == (fonts / TTF).resolve()
    assert embedded is True and warning is None


# ---------------------------------------------------------------------------
# (2) The packaged font is the default, whatever the machine has


def test_without_being_asked_the_packaged_font_is_used(fresh):
    choice = find_font()
    assert choice.path == pdfkit.PACKAGED_FONT and Path(choice.path).is_file()
    assert choice.embedded is True and choice.warning is None and choice.tried == ()
    assert find_font() is choice  # cached: the 6 MB file is read once per process


def test_the_packaged_font_wins_over_a_system_font(fresh, tmp_path, monkeypatch):
    system = tmp_path / "sys" / TTF
    system.parent.mkdir()
    shutil.copyfile(FONTS / TTF, system)
    # a font in a known system place (as /usr/share/fonts/…/ipaexg.ttf is on a Debian desk)
    assert pdfkit.KNOWN_FONTS[0] == (pdfkit.PACKAGED_FONT, 0)
    monkeypatch.setattr(pdfkit, "KNOWN_FONTS", pdfkit.KNOWN_FONTS + ((str(system), 0),))
    monkeypatch.setenv("HOME", str(system.parent))
    assert find_font().path == pdfkit.PACKAGED_FONT


# ---------------------------------------------------------------------------
# (3) A bare machine: every font embedded, the Japanese text there


def pdffonts(path: Path) -> list[tuple[str, str]]:
    """(name, emb) of every font pdffonts lists."""
    res = subprocess.run([require("pdffonts"), str(path)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    rows = []
    for line in res.stdout.splitlines()[2:]:
        m = re.match(r"(.+?)\s+(Type 1|Type 1C|Type 3|TrueType|CID Type 0|CID Type 0C|CID TrueType)\s+.*?"
                     r"\s(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", line)
        assert m, line
        rows.append((m.group(1), m.group(3)))
    return rows


def test_on_a_bare_machine_export_embeds_every_font_and_the_text_shows(bare, tmp_path, capsys, monkeypatch):
    run = cli_runner(tmp_path, capsys, monkeypatch)
    code, out, err = run("intake", "--json", "-", stdin=json.dumps(INTAKE, ensure_ascii=False))
    assert code == 0, err
    incident = out.strip()
    target = tmp_path / "報告.pdf"
    code, out, err = run("export", incident, "--pdf", str(target), "--waive-reason", "訓練")
    assert code == 0, err
    assert err == ""  # no font warning
    assert find_font().path == pdfkit.PACKAGED_FONT
    # every font of every page embedded (read with pypdf: works without poppler)
    reader = PdfReader(str(target))
    assert len(reader.pages) >= 2
    for number, page in enumerate(reader.pages, start=1):
        fonts = [ref.get_object() for ref in page["/Resources"]["/Font"].values()]
        assert fonts, number
        for font in fonts:
            assert "IPAexGothic" in str(font["/BaseFont"]), (number, font["/BaseFont"])
            assert "/FontFile2" in font["/FontDescriptor"], (number, font["/BaseFont"])
    # poppler agrees, and draws the Japanese text
    listed = pdffonts(target)
    assert listed and all(emb == "yes" for _, emb in listed), listed
    assert all("IPAexGothic" in name for name, _ in listed), listed
    res = subprocess.run([require("pdftotext"), "-enc", "UTF-8", "-f", "1", "-l", "1", str(target), "-"],
                         capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    page1 = re.sub(r"\s+", "", res.stdout.decode("utf-8"))
    for want in ("報告様式1（発生報告）", "情報セキュリティインシデント", "窓口端末で不審なポップアップが表示される"):
        assert want in page1, want


def test_a_broken_install_falls_back_with_a_warning(fresh, tmp_path, monkeypatch):
    missing = str(tmp_path / "pkg" / TTF)
    system = tmp_path / "sys" / TTF
    system.parent.mkdir()
    shutil.copyfile(FONTS / TTF, system)
    monkeypatch.setattr(pdfkit, "PACKAGED_FONT", missing)
    monkeypatch.setattr(pdfkit, "KNOWN_FONTS", ((missing, 0), (str(system), 0)))
    choice = find_font()
    assert choice.path == str(system) and choice.embedded
    assert "同梱のフォントを使えない" in choice.warning and missing in choice.warning
    # nothing at all: the non-embedded CID font, with its warning
    monkeypatch.setattr(pdfkit, "_cache", {})
    monkeypatch.setattr(pdfkit, "KNOWN_FONTS", ((missing, 0),))
    choice = find_font()
    assert not choice.embedded and choice.name == pdfkit.CID_FALLBACK
    assert "埋め込まない" in choice.warning and missing in choice.warning and FONT_ENV in choice.warning


# ---------------------------------------------------------------------------
# (4) Fonts on the machine, when asked for: the Windows folders from the environment


def test_windows_font_folders_come_from_the_environment(bare, tmp_path, monkeypatch):
    windir, local = tmp_path / "Windows", tmp_path / "AppData" / "Local"
    system = windir / "Fonts" / "msgothic.ttc"
    user = local / "Microsoft" / "Windows" / "Fonts" / "YuGothR.ttc"
    for f in (system, user):
        f.parent.mkdir(parents=True)
        shutil.copyfile(FONTS / TTF, f)
    monkeypatch.setenv("WINDIR", str(windir))
    monkeypatch.setenv("LOCALAPPDATA", str(local))
    folders = [f for f, _ in pdfkit.font_dirs()]
    assert folders[:2] == [str(system.parent), str(user.parent)]
    assert pdfkit._expand("%WINDIR%/Fonts/msgothic.ttc") == str(system)
    for entry, _ in pdfkit.KNOWN_FONTS + tuple(pdfkit.FONT_DIRS):
        assert not entry.lower().startswith("c:"), entry  # no hard-coded C:\Windows

    # asked for by name (--font / the configured argument), letter case ignored, .ttc#N
    choice = find_font("msgothic.ttc")
    assert choice.path == str(system) and choice.embedded and choice.warning is None
    assert find_font("yugothr.TTC#0").path == str(user)  # the per-user folder (no admin rights)
    # … or by $CSIRT_DESK_FONT
    monkeypatch.setenv(FONT_ENV, "YuGothR.ttc")
    assert find_font().path == str(user)
    # a full path is that file, a name is never looked for in the current folder
    monkeypatch.delenv(FONT_ENV)
    assert find_font(str(system)).path == str(system)
    monkeypatch.chdir(user.parent)
    assert find_font("./YuGothR.ttc").path == str(user)

    # unset variables: the folders are not searched, the packaged font is used and says why
    monkeypatch.delenv("WINDIR")
    monkeypatch.delenv("LOCALAPPDATA")
    assert all(str(tmp_path / "Windows") not in f and "AppData" not in f for f, _ in pdfkit.font_dirs())
    monkeypatch.setattr(pdfkit, "_cache", {})
    choice = find_font("msgothic.ttc")
    assert choice.path == pdfkit.PACKAGED_FONT and choice.embedded
    assert "msgothic.ttc" in choice.tried[0] and "フォントのフォルダにありません" in choice.tried[0]
    assert "指定のフォントは使えない" in choice.warning


def test_a_name_is_found_in_the_subfolders_of_the_unix_font_folders(bare, monkeypatch):
    deep = Path(os.environ["HOME"]) / ".local" / "share" / "fonts" / "ipa" / "IPAexG.ttf"
    deep.parent.mkdir(parents=True)
    shutil.copyfile(FONTS / TTF, deep)
    choice = find_font("ipaexg.ttf")
    assert choice.path == str(deep) and choice.warning is None


def test_characters_outside_the_bmp_copy_and_search_as_themselves(tmp_path):
    """𩸽 and 𠀋 (outside the BMP, in IPAexGothic) were drawn right but extracted as
    other characters (ReportLab wrote five hex digits in the ToUnicode map;
    csirt_tui.report.pdfkit writes UTF-16BE). 𠮷 is not in the font: it is drawn as
    〈U+20BB7〉, and copies as that."""
    import shutil
    import subprocess

    from pypdf import PdfReader

    from conftest import Clock
    from csirt_tui.report.export import export_form1
    from csirt_tui.store import Store

    store = Store.open(tmp_path / "store", clock=Clock())
    iid = store.create_incident({"what": "𩸽の干物と𠀋の字、𠮷野家"}, operator="試験").id
    pdf = export_form1(store, iid, tmp_path / "r.pdf", operator="試験", waive_reason="試験").path
    text = "".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    assert "𩸽の干物と𠀋の字、〈U+20BB7〉野家" in "".join(text.split())
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True).stdout.decode()
        assert "𩸽の干物と𠀋の字、〈U+20BB7〉野家" in "".join(out.split())
