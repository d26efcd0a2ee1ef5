"""`restore` killed at any moment (issue 14, defect 7): every reader afterwards
sees the old store or the restored one, never a mix; a folder with backups but
no store.json is never taken as a new store; nothing moved aside is lost."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import sample_intake
from csirt_tui.errors import StoreError
from csirt_tui import store as store_module
from csirt_tui import backup as backup_module
from csirt_tui.store import Store

RESTORE_JOURNAL = getattr(store_module, "RESTORE_JOURNAL", ".restore.json")

ROOT = Path(__file__).resolve().parents[1]
OLD, NEW = 60, 90  # incidents in the backup, and in the store when it is restored


@pytest.fixture(scope="module", params=["full", "incremental"])
def template(tmp_path_factory, request):
    """A store whose newest manual backup holds OLD incidents and whose files hold NEW;
    that backup a full one, or one that holds only what changed since the one before
    (csirt_tui/backup.py: its store is made of both)."""
    root = tmp_path_factory.mktemp("restore") / "store"
    s = Store.open(root)
    for i in range(OLD):
        s.create_incident(sample_intake(what=f"古い {i}"), operator="setup")
        if request.param == "incremental" and i == OLD // 2:
            s.backup("manual")
    backup = s.backup("manual").name
    assert (backup_module.manifest(root / "backups" / backup)["base"] is None) == (request.param == "full")
    for i in range(NEW - OLD):
        inc = s.create_incident(sample_intake(what=f"新しい {i}"), operator="setup")
        s.append(inc.id, "note", "退避される記録", operator="setup")
    return root, backup


def _restore_cmd(root: Path, name: str) -> list[str]:
    return [sys.executable, "-m", "csirt_tui", "--store", str(root), "restore", name]


def _env():
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _incident_dirs(folder: Path) -> set[str]:
    return {p.name for p in (folder / "incidents").glob("*/*") if p.is_dir() and not p.name.startswith(".")}


def _kill_rounds(template, tmp_path, rounds: int, seed: int) -> dict[str, int]:
    src, backup = template
    # how long a whole restore takes here, start-up included
    probe = tmp_path / "probe"
    shutil.copytree(src, probe)
    t0 = time.monotonic()
    done = subprocess.run(_restore_cmd(probe, backup), capture_output=True, text=True, env=_env())
    full = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    rng = random.Random(seed)
    seen = {"old": 0, "restored": 0, "journal_left": 0}
    for n in range(rounds):
        root = tmp_path / f"r{n}"
        shutil.copytree(src, root)
        proc = subprocess.Popen(_restore_cmd(root, backup), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=_env())
        # most of a run is Python starting; aim the kills at the part that moves files
        time.sleep(rng.uniform(full * 0.4, full * 1.05))
        proc.kill()
        proc.communicate()
        if (root / RESTORE_JOURNAL).exists():
            seen["journal_left"] += 1
        # a reader in another process: exit 0 means a whole store, with one count or the other
        listed = subprocess.run([sys.executable, "-m", "csirt_tui", "--store", str(root), "list", "--json", "--all"],
                                capture_output=True, text=True, env=_env())
        assert listed.returncode == 0, listed.stderr
        count = len(json.loads(listed.stdout))
        assert count in (OLD, NEW), (n, count)
        seen["restored" if count == OLD else "old"] += 1
        s = Store.open(root, create=False)
        report = s.verify()
        assert report.ok, (n, report.problems[:3])
        assert len(s.list_incidents()) == count
        assert not (root / RESTORE_JOURNAL).exists()
        if count == OLD:  # the files that were replaced are all in the before-restore folder
            aside = [p for p in (root / "backups").iterdir() if "before-restore" in p.name]
            assert len(aside) == 1 and len(_incident_dirs(aside[0])) == NEW, n
        shutil.rmtree(root)
    return seen


def test_restore_killed_at_random_moments_leaves_no_partial_store(template, tmp_path):
    seen = _kill_rounds(template, tmp_path, rounds=8, seed=3)
    assert seen["old"] + seen["restored"] == 8


@pytest.mark.heavy
def test_restore_killed_100_times(template, tmp_path):
    seen = _kill_rounds(template, tmp_path, rounds=100, seed=4)
    print(f"\n100 kills during restore: {seen}")
    assert seen["journal_left"] >= 5  # the kills did land in the middle of restores


def test_a_restore_stopped_in_each_phase_is_finished_by_the_next_open(template, tmp_path, monkeypatch):
    """Deterministic: stop the restore after k file moves/writes, for every k."""
    import csirt_tui.store as store_mod

    src, backup = template
    k = 0
    while True:
        root = tmp_path / f"k{k}"
        shutil.copytree(src, root)
        calls = {"n": 0}
        real_replace, real_write = store_mod.replace, store_mod.atomic_write

        class Killed(BaseException):
            pass

        def counting(real):
            def step(*a, **kw):
                calls["n"] += 1
                if calls["n"] > k:
                    raise Killed()
                return real(*a, **kw)
            return step

        monkeypatch.setattr(store_mod, "replace", counting(real_replace))
        monkeypatch.setattr(store_mod, "atomic_write", counting(real_write))
        try:
            Store.restore(root, backup)
            finished = True
        except Killed:
            finished = False
        monkeypatch.setattr(store_mod, "replace", real_replace)
        monkeypatch.setattr(store_mod, "atomic_write", real_write)
        s = Store.open(root, create=False)
        assert len(s.list_incidents()) in (OLD, NEW), k
        assert s.verify().ok, k
        if finished:
            break
        k += 1
        if k > 40:  # the middle of the copy phase is the same step repeated: sample it
            k += 37
    assert k > 5


def test_a_folder_with_backups_but_no_store_json_is_never_a_new_store(store, tmp_path):
    store.create_incident(sample_intake(), operator="t")
    store.backup("manual")
    (store.root / "store.json").unlink()
    for create in (True, False):
        with pytest.raises(StoreError) as err:
            Store.open(store.root, create=create)
        assert "restore" in str(err.value)
    assert not (store.root / "store.json").exists()  # nothing was created
    done = subprocess.run([sys.executable, "-m", "csirt_tui", "--store", str(store.root), "intake", "--json", "-"],
                          input=json.dumps({"what": "x"}), capture_output=True, text=True, env=_env())
    assert done.returncode == 1 and "restore" in done.stderr and "Traceback" not in done.stderr
    Store.restore(store.root)
    assert len(Store.open(store.root, create=False).list_incidents()) == 1


def test_a_desk_that_opens_while_a_restore_dies_does_not_make_an_empty_store(template, tmp_path, monkeypatch):
    """The desk passed the journal check, waited for the lock while the restore ran
    and died after moving everything aside: it made a new empty store (and reused
    2026-0001). Now it finishes the restore under the lock first."""
    import csirt_tui.store as store_mod

    src, backup = template
    root = tmp_path / "s"
    shutil.copytree(src, root)
    killed = (f"import os, sys; sys.path.insert(0, {str(ROOT)!r})\n"
              "import csirt_tui.store as m\n"
              "real = m._write_journal\n"
              "def w(root, doc):\n"
              "    if doc.get('phase') == 'copy': os._exit(9)\n"
              "    real(root, doc)\n"
              "m._write_journal = w\n"
              f"m.Store.restore({str(root)!r}, {backup!r})\n")
    real = store_mod.Store._acquire
    state = {"first": True}

    def acquire(self):
        if state["first"]:
            state["first"] = False
            assert subprocess.run([sys.executable, "-c", killed], env=_env()).returncode == 9
        real(self)

    monkeypatch.setattr(store_mod.Store, "_acquire", acquire)
    desk = Store.open(root)
    monkeypatch.undo()
    assert len(desk.list_incidents()) == OLD
    assert desk.create_incident(sample_intake(), operator="t").id == f"2026-{OLD + 1:04d}"
    assert Store.open(root, create=False).verify().ok


def test_a_restore_whose_backup_was_pruned_meanwhile_leaves_the_store_as_it_was(template, tmp_path, monkeypatch):
    import csirt_tui.store as store_mod

    src, backup = template
    root = tmp_path / "s"
    shutil.copytree(src, root)
    real = store_mod._finish_restore

    def prune_first(r):
        shutil.rmtree(root / "backups" / backup, ignore_errors=True)  # another desk's backup pruned it
        return real(r)

    monkeypatch.setattr(store_mod, "_finish_restore", prune_first)
    with pytest.raises(StoreError, match="なくなりました"):
        Store.restore(root, backup)
    monkeypatch.undo()
    s = Store.open(root, create=False)
    assert len(s.list_incidents()) == NEW and not (root / RESTORE_JOURNAL).exists()


def test_a_restore_leaves_the_exported_reports_where_the_record_names_them(template, tmp_path):
    src, backup = template
    root = tmp_path / "s"
    shutil.copytree(src, root)
    (root / "reports").mkdir()
    (root / "reports" / "報告.pdf").write_bytes(b"%PDF-1.4 report")
    Store.restore(root, backup)
    assert (root / "reports" / "報告.pdf").read_bytes() == b"%PDF-1.4 report"


def test_a_restore_to_finish_while_a_draft_is_being_written_says_the_store_is_busy(tmp_path, monkeypatch):
    """A restore's finish waits for the drafts' lock; held past the wait (another process
    writing a draft), opening the store raised filelock's own Timeout, a traceback, where every
    busy store says 「使用中」 in one line (StoreBusyError)."""
    import subprocess
    import sys

    import csirt_tui.store as store_mod
    from csirt_tui.errors import StoreBusyError

    root = tmp_path / "store"
    Store.open(root)
    (root / store_mod.RESTORE_JOURNAL).write_bytes(b"{}")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom filelock import FileLock\n"
        f"lock = FileLock({str(root / store_mod.DRAFTS_LOCK)!r}); lock.acquire()\n"
        "print('held', flush=True); time.sleep(30)")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(store_mod, "RESTORE_DRAFTS_WAIT", 0.3)
        with pytest.raises(StoreBusyError, match="使用中"):
            Store.open(root)
    finally:
        holder.kill()
        holder.wait()
