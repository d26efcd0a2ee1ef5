"""Two desks that worked apart fold an incident to the same state (docs/exchange.md, 3)."""

from __future__ import annotations

from csirt_tui.merge import decided_apart
from csirt_tui.model import Incident, TimelineEntry, entry_hash, genesis_hash

A, B = "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"
X = "2026-0003"  # the incident's number at A (the desk that took the call)
XB = "2026-0011"  # its number at B


def native(incident, seq, at, kind, data, prev):
    doc = {"incident": incident, "seq": seq, "at": at, "occurred_at": None, "operator": f"op{seq}",
           "kind": kind, "text": kind, "data": data, "corrects": None, "prev_hash": prev}
    doc["hash"] = entry_hash(doc)
    return TimelineEntry.from_dict(doc)


def imported(incident, seq, prev, store, e: TimelineEntry):
    """``e`` (written at ``store``) as another desk appends it: its own number and chain there."""
    doc = {**e.to_dict(), "incident": incident, "seq": seq, "prev_hash": prev,
           "origin": {"store": store, "incident": e.incident, "seq": e.seq, "prev_hash": e.prev_hash,
                      "hash": e.hash, "corrects": e.corrects}}
    doc["hash"] = entry_hash(doc)
    return TimelineEntry.from_dict(doc)


def chain(items):
    """Link a list of (maker) into one chain: each maker takes (seq, prev)."""
    out, prev = [], None
    for n, make in enumerate(items, 1):
        e = make(n, prev)
        out.append(e)
        prev = e.hash
    return out


def two_desks():
    # at A: the call, a triage (level 1), later a note
    a1 = native(X, 1, "2026-11-22T09:00:00+09:00", "intake", {"what": "不審なメール"}, genesis_hash(X))
    a2 = native(X, 2, "2026-11-22T09:10:00+09:00", "triage", {"type": "malware", "level": 1}, a1.hash)
    # B received 1-2, then triaged again (level 2) and began a step, while A wrote a note
    b_view = chain([
        lambda n, p: imported(XB, n, genesis_hash(XB), A, a1),
        lambda n, p: imported(XB, n, p, A, a2),
        lambda n, p: native(XB, n, "2026-11-22T10:30:00+09:00", "triage", {"type": "malware", "level": 2}, p),
        # B's clock writes UTC: 01:45Z is 10:45 in Tokyo
        lambda n, p: native(XB, n, "2026-11-22T01:45:00+00:00", "step", {"step": "contain", "status": "doing",
                                                                          "phase": "first"}, p),
    ])
    # A, not knowing, keeps level 1 after a second look (10:50: the later decision)
    a3 = native(X, 3, "2026-11-22T10:50:00+09:00", "triage", {"type": "malware", "level": 1}, a2.hash)
    # the exchange: each takes in what the other wrote
    a_view = [a1, a2, a3]
    for e in b_view[2:]:
        a_view.append(imported(X, len(a_view) + 1, a_view[-1].hash, B, e))
    b_view.append(imported(XB, len(b_view) + 1, b_view[-1].hash, A, a3))
    return a_view, b_view


def test_both_desks_fold_the_same_state():
    a_view, b_view = two_desks()
    at_a = Incident.from_entries(X, a_view, store_id=A)
    at_b = Incident.from_entries(XB, b_view, store_id=B)
    assert (at_a.level, at_a.status, at_a.phase) == (at_b.level, at_b.status, at_b.phase) == (1, "open", "first")
    assert at_a.steps["contain"]["status"] == at_b.steps["contain"]["status"] == "doing"
    assert [e.seq for e in at_a.entries] == [1, 2, 3, 4, 5]  # the record keeps its own order
    # in each desk's own order A would end at level 2 (B's entry came last there), B at 1
    naive_a, naive_b = Incident(id=X), Incident(id=XB)
    for e in a_view:
        naive_a.apply(e)
    for e in b_view:
        naive_b.apply(e)
    assert (naive_a.level, naive_b.level) == (2, 1)


def test_every_entry_keeps_its_hash_and_its_origin_proves_what_its_desk_wrote():
    a_view, b_view = two_desks()
    for e in a_view + b_view:
        assert entry_hash(e.to_dict()) == e.hash
        if e.origin:
            original = {**e.to_dict(), "incident": e.origin["incident"], "seq": e.origin["seq"],
                        "prev_hash": e.origin["prev_hash"], "corrects": e.origin["corrects"]}
            original.pop("origin")
            assert entry_hash(original) == e.origin["hash"]


def test_an_entry_without_origin_hashes_as_it_always_has():
    doc = {"incident": X, "seq": 1, "at": "2026-11-22T09:00:00+09:00", "occurred_at": None, "operator": "a",
           "kind": "intake", "text": "受付", "data": {}, "corrects": None, "prev_hash": genesis_hash(X)}
    import hashlib
    import json

    before = hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=True,
                                       separators=(",", ":")).encode()).hexdigest()
    assert entry_hash(doc) == before
    assert set(TimelineEntry.from_dict({**doc, "hash": before}).to_dict()) == {*doc, "hash"}


def test_what_the_desks_decided_differently_is_shown_the_same_on_both():
    a_view, b_view = two_desks()
    at_a = decided_apart(Incident.from_entries(X, a_view, store_id=A), A)
    at_b = decided_apart(Incident.from_entries(XB, b_view, store_id=B), B)
    assert at_a == [{"what": "レベル", "value": 1, "desk": A, "at": "2026-11-22T10:50:00+09:00", "operator": "op3",
                     "others": [{"desk": B, "value": 2, "at": "2026-11-22T10:30:00+09:00", "operator": "op3"}]}]
    assert at_b == at_a
    assert decided_apart(Incident.from_entries(X, a_view[:3], store_id=A), A) == []  # one desk: nothing
