"""`export` killed at random moments (issue 14, heavy set): no report file without
a record entry naming it; and the CLI on a disk that fills up at random points:
every acknowledged write is in the store, every refusal is one plain line, the
store verifies after each."""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import cli_runner
from csirt_tui.store import Store

ROOT = Path(__file__).resolve().parents[1]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("export") / "store"
    s = Store.open(root)
    inc = s.create_incident({"what": "報告書の出力を試す", "place": "本庁舎"}, operator="試験")
    for i in range(300):  # a record long enough that the PDF takes a moment
        s.append(inc.id, "note", f"経過 {i}: " + "状況を確認した。" * 8, operator="試験")
    return root, inc.id


def _kill_rounds(template, tmp_path, rounds, seed):
    src, incident = template
    probe = tmp_path / "probe"
    shutil.copytree(src, probe)
    cmd = lambda root, pdf: [sys.executable, "-m", "csirt_tui", "--store", str(root), "--operator", "試験",  # noqa: E731
                             "export", incident, "--pdf", str(pdf), "--waive-reason", "試験"]
    t0 = time.monotonic()
    done = subprocess.run(cmd(probe, tmp_path / "probe.pdf"), capture_output=True, text=True, env=_env())
    full = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    rng = random.Random(seed)
    seen = {"pdf_written": 0, "no_pdf": 0}
    for n in range(rounds):
        root, pdf = tmp_path / f"r{n}", tmp_path / f"r{n}.pdf"
        shutil.copytree(src, root)
        proc = subprocess.Popen(cmd(root, pdf), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
        time.sleep(rng.uniform(full * 0.3, full * 1.05))
        proc.kill()
        proc.communicate()
        store = Store.open(root)
        reports = [e for e in store.timeline(incident) if e.kind == "report"]
        if pdf.exists():
            seen["pdf_written"] += 1
            assert any(e.data.get("path") == str(pdf) for e in reports), (n, "a report with no record entry")
            assert reports[0].data["state"] == "started"
        else:
            seen["no_pdf"] += 1
        assert store.verify().ok, n
        shutil.rmtree(root)
    return seen


def test_export_killed_at_random_moments_leaves_no_report_without_its_entry(template, tmp_path):
    _kill_rounds(template, tmp_path, rounds=6, seed=1)


@pytest.mark.heavy
def test_export_killed_100_times(template, tmp_path):
    seen = _kill_rounds(template, tmp_path, rounds=100, seed=2)
    print(f"\n100 kills during export: {seen}")
    assert seen["pdf_written"] >= 5 and seen["no_pdf"] >= 5  # the kills fell on both sides of the write


def _full_disk_rounds(tmp_path, capsys, monkeypatch, rounds, seed):
    """The disk fills up after a random number of writes: each CLI write either is
    acknowledged (exit 0, and then it is in the store) or refused in plain words."""
    from csirt_tui import jsonfile

    run = cli_runner(tmp_path, capsys, monkeypatch)
    code, out, err = run("intake", "--json", "-", stdin=json.dumps({"what": "最初の受付"}))
    assert code == 0, err
    first = out.strip()
    rng = random.Random(seed)
    real_write = os.write
    acknowledged: list[tuple[str, str]] = []  # (incident, text)
    refused = 0
    for n in range(rounds):
        budget = {"left": rng.randrange(0, 6)}

        def write(fd, data, budget=budget):
            if budget["left"] <= 0:
                raise OSError(errno.ENOSPC, "No space left on device")
            budget["left"] -= 1
            return real_write(fd, data)

        monkeypatch.setattr(jsonfile.os, "write", write)
        text = f"メモ {n} " + "あ" * rng.randrange(1, 400)
        if n % 5 == 0:
            code, out, err = run("intake", "--json", "-", stdin=json.dumps({"what": text}, ensure_ascii=False))
            target = out.strip() if code == 0 else None
        else:
            code, out, err = run("log", first, text)
            target = first
        monkeypatch.setattr(jsonfile.os, "write", real_write)
        if code == 0:
            acknowledged.append((target, text))
        else:
            refused += 1
            assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
            assert "ディスクの空き" in err and "[Errno" not in err, err
        report = Store.open(run.store).verify()
        assert report.ok, (n, report.problems[:3])
    store = Store.open(run.store)
    for incident, text in acknowledged:
        texts = [e.text for e in store.timeline(incident)] + [store.incident(incident).intake.get("what")]
        assert text in texts, (incident, text[:20])
    return len(acknowledged), refused


def test_the_cli_on_a_disk_that_fills_up_loses_nothing_acknowledged(tmp_path, capsys, monkeypatch):
    ok, refused = _full_disk_rounds(tmp_path, capsys, monkeypatch, rounds=30, seed=5)
    assert ok and refused


@pytest.mark.heavy
def test_the_cli_on_a_full_disk_300_times(tmp_path, capsys, monkeypatch):
    ok, refused = _full_disk_rounds(tmp_path, capsys, monkeypatch, rounds=300, seed=6)
    print(f"\nfull disk, 300 CLI writes: {ok} acknowledged (all in the store), {refused} refused in plain words")
    assert ok > 30 and refused > 30
