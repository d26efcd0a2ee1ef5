"""`verify` sees any edit of any store file (issue 14, defect 8): 100 random
one-byte edits in each kind of file, each caught by `verify` or refused at open
with a clear message (never a KeyError or any other crash)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from conftest import sample_intake
from csirt_tui.errors import DomainError
from csirt_tui.store import Store

EDITS = 100


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("edits") / "store"
    s = Store.open(root)
    long = s.create_incident(sample_intake(), operator="試験")
    for i in range(130):  # two timeline segments
        s.append(long.id, "note", f"メモ {i}", operator="試験")
    s.create_incident(sample_intake(what="二件目"), operator="試験")
    s.save_draft("d1", {"what": "下書きの本文"}, operator="試験")
    s.add_person({"name": "試験 花子", "role": "ciso", "extension": "2301"}, operator="試験")
    s.log_export({"incident": long.id, "path": "/tmp/x.pdf", "kind": "form1"})
    s.backup("manual")
    assert s.verify(mark=True).ok  # and verified.json (verify --changed goes on from it)
    assert (root / "verified.json").exists()
    return root, long.id


KINDS = {
    "store.json": lambda root, inc: root / "store.json",
    "index-open": lambda root, inc: root / "index" / "open.json",
    "index-year": lambda root, inc: root / "index" / f"{inc[:4]}.json",
    "verified": lambda root, inc: root / "verified.json",
    "timeline-first": lambda root, inc: root / "incidents" / inc[:4] / inc / "timeline-0000.json",
    "timeline-last": lambda root, inc: root / "incidents" / inc[:4] / inc / "timeline-0001.json",
    "draft": lambda root, inc: root / "drafts" / "d1.json",
    "roster": lambda root, inc: root / "roster.json",
    "reports": lambda root, inc: root / "reports.json",
    "ledger": lambda root, inc: root / "ledger" / "ledger-0000.json",
}


def _caught(root: Path) -> bool:
    try:
        store = Store.open(root, create=False)
        return not store.verify().ok
    except DomainError:  # refused at open, with the file named
        return True


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_random_byte_edit_is_caught(template, tmp_path, kind):
    src, incident = template
    root = tmp_path / "s"
    shutil.copytree(src, root)
    target = KINDS[kind](root, incident)
    original = target.read_bytes()
    rng = random.Random(f"{kind}-edits")
    missed = []
    for n in range(EDITS):
        pos = rng.randrange(len(original))
        new = rng.choice([b for b in range(256) if b != original[pos]])
        target.write_bytes(original[:pos] + bytes([new]) + original[pos + 1:])
        if not _caught(root):
            missed.append((pos, original[max(0, pos - 20):pos + 20], new))
        target.write_bytes(original)
    assert _caught(root) is False  # the untouched store still verifies
    assert missed == [], f"{len(missed)} of {EDITS} edits of {kind} passed verify: {missed[:3]}"


def test_an_unknown_key_in_store_json_is_refused_at_open_not_a_keyerror_later(template, tmp_path):
    """The reproduction: "profile" → "proDile" passed verify and then crashed every command."""
    from csirt_tui import jsonfile

    src, _ = template
    root = tmp_path / "s"
    shutil.copytree(src, root)
    path = root / "store.json"
    data = jsonfile.decode(path, path.read_bytes())
    meta = data["meta"]["1"]
    meta["proDile"] = meta.pop("profile")
    jsonfile.atomic_write(path, jsonfile.seal(data))  # even re-sealed, as a careful editor would
    with pytest.raises(DomainError, match="profile"):
        Store.open(root, create=False)


@pytest.mark.parametrize("keep", [0, -1, "10", True])
def test_backup_keep_that_would_delete_every_backup_is_refused(template, tmp_path, keep):
    from csirt_tui import jsonfile

    src, _ = template
    root = tmp_path / "s"
    shutil.copytree(src, root)
    path = root / "store.json"
    data = jsonfile.decode(path, path.read_bytes())
    data["meta"]["1"]["backup_keep"] = keep
    jsonfile.atomic_write(path, jsonfile.seal(data))
    before = sorted(p.name for p in (root / "backups").iterdir())
    with pytest.raises(DomainError, match="backup_keep"):
        Store.open(root, create=False).backup("manual")
    assert sorted(p.name for p in (root / "backups").iterdir()) == before


def test_a_damaged_draft_is_set_aside_not_a_stop(template, tmp_path):
    """One damaged draft stopped the TUI from starting: now it is moved aside as it
    is (bytes kept) and named, and the other drafts are listed."""
    src, _ = template
    root = tmp_path / "s"
    shutil.copytree(src, root)
    s = Store.open(root)
    s.save_draft("d2", {"what": "無事な下書き"}, operator="試験")
    bad = root / "drafts" / "d1.json"
    damaged = bad.read_bytes().replace("下書きの本文".encode(), "下書きの本X".encode())
    bad.write_bytes(damaged)
    assert [d["id"] for d in s.list_drafts()] == ["d2"]
    (where, problem), = s.take_set_aside()
    assert where.name.startswith("d1.json.damaged-") and where.read_bytes() == damaged
    assert "seal" in problem and not bad.exists()
    assert s.take_set_aside() == []
    assert Store.open(root).verify().ok  # the set-aside copy is not a store file


def test_the_desk_starts_with_a_damaged_draft(template, tmp_path, clock):
    import asyncio

    from csirt_tui.app import CsirtDeskApp

    src, _ = template
    root = tmp_path / "s"
    shutil.copytree(src, root)
    (root / "drafts" / "d1.json").write_bytes(b"{\n\"draft\":{\n")

    async def go():
        app = CsirtDeskApp(store=Store.open(root, clock=clock), operator="試験", backups=False)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            said = [n.message for n in app._notifications]
            return app.is_running, list((root / "drafts").glob("d1.json.damaged-*")), said

    running, aside, said = asyncio.run(go())
    assert running and len(aside) == 1
    assert any("壊れた下書きを退避しました" in m and aside[0].name in m for m in said), said
