"""`export --pdf`, `summary --pdf` and `list --csv` write only where they should
(issue 14, defect 2): never a store file (only the store's reports/), never a
device, FIFO or link, never over an existing file without --force (the TUI asks).
And the record names an export before its file exists (defect 11)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from conftest import cli_runner, wait_until

posix_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="Windows has no FIFOs (os.mkfifo)")

INTAKE = {"what": "窓口端末で不審なポップアップが表示される", "place": "本庁舎2階 市民課"}


@pytest.fixture
def run(tmp_path, capsys, monkeypatch):
    return cli_runner(tmp_path, capsys, monkeypatch)


@pytest.fixture
def incident(run):
    code, out, err = run("intake", "--json", "-", stdin=json.dumps(INTAKE, ensure_ascii=False))
    assert code == 0, err
    return out.strip()


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "backups" not in p.parts}


def _export(run, incident, target, *extra):
    return run("export", incident, "--pdf", str(target), "--waive-reason", "試験", *extra)


@pytest.mark.parametrize("inside", ["store.json", "incidents/2026/{id}/timeline-0000.json", "index/2026.json",
                                    "new.pdf", "incidents/2026/{id}/new.pdf", "ledger/ledger-0000.json"])
def test_no_file_inside_the_store_but_reports(run, incident, inside):
    before = _snapshot(run.store)
    target = run.store / inside.format(id=incident)
    for extra in ((), ("--force",)):
        code, out, err = _export(run, incident, target, *extra)
        assert code == 1 and "ストアの中です" in err and "Traceback" not in err
        code, out, err = run("list", "--csv", str(target), *extra)
        assert code == 1 and "ストアの中です" in err
    assert _snapshot(run.store) == before
    assert run("verify")[0] == 0


def test_the_stores_reports_folder_is_allowed(run, incident):
    (run.store / "reports").mkdir(mode=0o700)
    code, out, err = _export(run, incident, run.store / "reports" / "報告.pdf")
    assert code == 0, err
    assert run("list", "--csv", str(run.store / "reports" / "一覧.csv"))[0] == 0
    assert run("verify")[0] == 0


def test_an_existing_file_is_written_over_only_with_force(run, incident, tmp_path):
    target = tmp_path / "報告.pdf"
    target.write_bytes(b"the report the CISO has")
    code, out, err = _export(run, incident, target)
    assert code == 1 and "既にあります" in err and "--force" in err
    assert target.read_bytes() == b"the report the CISO has"
    code, out, err = run("summary", "--from", "2026-01-01", "--to", "2026-12-31", "--pdf", str(target),
                         "--waive-reason", "試験")
    assert code == 1 and "既にあります" in err
    code, out, err = _export(run, incident, target, "--force")
    assert code == 0, err
    assert target.read_bytes().startswith(b"%PDF-")


@posix_fifo
def test_a_link_a_fifo_or_a_device_is_never_replaced(run, incident, tmp_path):
    real = tmp_path / "real.pdf"
    real.write_bytes(b"keep")
    link = tmp_path / "link.pdf"
    link.symlink_to(real)
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    for target, needle in ((link, "リンク"), (fifo, "通常のファイルではありません"),
                           (Path("/dev/null"), "通常のファイルではありません")):
        code, out, err = _export(run, incident, target, "--force")
        assert code == 1 and needle in err, (target, err)
        code, out, err = run("list", "--csv", str(target), "--force")
        assert code == 1 and needle in err, (target, err)
    assert link.is_symlink() and real.read_bytes() == b"keep"
    assert fifo.exists() and not fifo.is_file()
    assert Path("/dev/null").is_char_device()


def test_the_record_names_an_export_before_the_file_exists(run, incident, tmp_path, monkeypatch):
    """A crash between the two leaves a record naming the file, never a file with no record."""
    from csirt_tui import jsonfile
    from csirt_tui.store import Store

    target = tmp_path / "報告.pdf"
    seen = {}
    real = jsonfile.atomic_write

    def watch(path, payload, **kw):
        if Path(path) == target:
            seen["entries"] = Store.open(run.store).timeline(incident)
        return real(path, payload, **kw)

    monkeypatch.setattr(jsonfile, "atomic_write", watch)
    code, out, err = _export(run, incident, target)
    assert code == 0, err
    before = seen["entries"][-1]
    assert before.kind == "report" and before.data["state"] == "started" and before.data["path"] == str(target)
    after = Store.open(run.store).timeline(incident)[-1]
    assert after.data["state"] == "written" and after.data["started"] == before.seq


def test_the_export_dialog_asks_before_writing_over_a_file(store_dir, tmp_path):
    from textual.widgets import Input

    from conftest import Clock
    from csirt_tui.app import CsirtDeskApp
    from csirt_tui.store import Store
    from screens.export import ExportScreen

    store = Store.open(store_dir, clock=Clock())
    incident = store.create_incident(INTAKE, operator="試験").id
    target = tmp_path / "報告.pdf"
    target.write_bytes(b"old")

    async def scenario():
        app = CsirtDeskApp(store=store, operator="試験", backups=False)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            screen = ExportScreen(incident)
            app.push_screen(screen)
            await pilot.pause()
            screen.query_one("#export-path", Input).value = str(target)
            screen.query_one("#export-waive", Input).value = "試験"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, ExportScreen) and target.read_bytes() == b"old"
            from textual.widgets import Static

            asked = "既にあります" in str(screen.query_one("#export-message", Static).render())
            await pilot.press("ctrl+s")  # yes
            assert await wait_until(pilot, lambda: not isinstance(app.screen, ExportScreen))
            await app.workers.wait_for_complete()
            return asked

    assert asyncio.run(scenario())
    assert target.read_bytes().startswith(b"%PDF-")
