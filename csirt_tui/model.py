"""The domain model: timeline entries and the incident state they make.

The record is append-only. An incident is its time-ordered list of
timeline entries; its current state (intake items, classification,
steps, notifications, evidence, status) is computed from those entries.
A correction is a new entry that points at the one it corrects.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

# Timeline entry kinds and their Japanese names (as shown in the record).
KINDS: dict[str, str] = {
    "intake": "受付",
    "fact_check": "事実確認",
    "triage": "トリアージ",
    "classification": "分類",
    "step": "対応手順",
    "note": "メモ",
    "call": "連絡",
    "notification": "通知",
    "evidence": "証拠",
    "decision": "決定",
    "report": "報告",
    "correction": "訂正",
    "close": "収束",
    "reopen": "再開",
}

# The four items of the PoC card (むつ市 別表第1 確認項目).
INTAKE_ITEMS = ("found_at", "place", "what", "reporter")

STATUS_LABELS = {
    "open": "対応中",
    "closed": "収束",
    "not_incident": "インシデントではない",
}

STEP_STATUSES = {
    "todo": "未着手",
    "doing": "対応中",
    "done": "完了",
    "na": "対象外",
}

# Entry fields covered by the hash (everything but the hash itself).
ENTRY_FIELDS = (
    "incident", "seq", "at", "occurred_at", "operator", "kind", "text",
    "data", "corrects", "prev_hash",
)


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def genesis_hash(incident_id: str) -> str:
    """The ``prev_hash`` of an incident's first entry (ties the chain to its incident)."""
    return hashlib.sha256(f"csirt-desk:{incident_id}".encode()).hexdigest()


def entry_hash(entry: dict[str, Any]) -> str:
    """The entry's hash: its ENTRY_FIELDS, and ``origin`` when it has one (an entry that came
    from another desk, docs/exchange.md; entries without it hash as they always have)."""
    fields = {k: entry.get(k) for k in ENTRY_FIELDS}
    if entry.get("origin") is not None:
        fields["origin"] = entry["origin"]
    return hashlib.sha256(canonical(fields)).hexdigest()


def _instant(iso: str) -> datetime:
    """An ISO time as an instant (desks may write different offsets); unreadable: the epoch."""
    try:
        t = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=timezone.utc)
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def clean_text(value: Any) -> Any:
    """Make strings storable as UTF-8 without changing what they say.

    Pasted text may hold a UTF-16 surrogate pair as two code units; it is
    joined into the one character it means. A lone surrogate is kept as it
    is (the file layer escapes it). Applied recursively to dicts and lists.
    """
    if isinstance(value, str):
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        return value
    if isinstance(value, dict):
        return {clean_text(k): clean_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_text(v) for v in value]
    return value


@dataclass(frozen=True)
class TimelineEntry:
    incident: str
    seq: int
    at: str                      # when it was recorded (ISO 8601, tz-aware)
    occurred_at: str | None      # when it happened, if the operator said earlier
    operator: str
    kind: str
    text: str
    data: dict[str, Any]
    corrects: int | None
    prev_hash: str
    hash: str
    # Set on an entry that came from another desk: {store, incident, seq, prev_hash, hash,
    # corrects, data?}, the entry as that desk wrote it (docs/exchange.md). None: written here.
    origin: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return f"{self.incident}#{self.seq}"

    @property
    def when(self) -> str:
        """The time the event happened (occurred_at if given, else recorded time)."""
        return self.occurred_at or self.at

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    def to_dict(self) -> dict[str, Any]:
        doc = {k: getattr(self, k) for k in (*ENTRY_FIELDS, "hash")}
        if self.origin is not None:
            doc["origin"] = self.origin
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> "TimelineEntry":
        return cls(**{k: doc.get(k) for k in (*ENTRY_FIELDS, "hash")}, origin=doc.get("origin"))

    def identity(self, store_id: str) -> tuple[str, int]:
        """(desk that wrote it, its number there); ``store_id``: the desk it is read on."""
        o = self.origin
        return (o["store"], o["seq"]) if o else (store_id, self.seq)


# The places where an entry names another of its incident by number (docs/exchange.md, 2).
REF_KEYS = ("corrects", "data.custody_of", "data.thread", "data.started", "data.up_to_seq")


def ref_value(e: dict[str, Any], key: str) -> Any:
    """The number at ``key`` (one of REF_KEYS) of an entry dict, None when there is none."""
    if key == "corrects":
        return e.get("corrects")
    data = e.get("data")
    return data.get(key.removeprefix("data.")) if isinstance(data, dict) else None


@dataclass(frozen=True)
class Node:
    """An entry as the merge orders it: who wrote it (desk, number there), when it was
    recorded, what its desk held of each other desk when it was written (``seen``: desk →
    highest number), and the entries it names."""
    ident: tuple[str, int]
    at: str
    seen: dict[str, int]
    refs: tuple[tuple[str, int], ...]


def causal_order(nodes: list[Node]) -> list[tuple[str, int]]:
    """The one order every desk folds an incident's entries in: each entry after its own
    desk's earlier ones, after what its desk had seen of the others when it was written, and
    after the entries it names; among entries none of which came first, by recorded time,
    desk and number. Clocks need not agree: time only breaks ties between entries written
    apart. (A cycle, which only a forged bundle makes, is broken in the same tie order.)"""
    import heapq

    by_desk: dict[str, list[int]] = {}
    for n in nodes:
        by_desk.setdefault(n.ident[0], []).append(n.ident[1])
    for seqs in by_desk.values():
        seqs.sort()
    present = {n.ident for n in nodes}

    def upto(desk: str, seq: int) -> tuple[str, int] | None:
        """The entry of ``desk`` with the highest number <= ``seq`` (None: none)."""
        import bisect

        seqs = by_desk.get(desk, [])
        i = bisect.bisect_right(seqs, seq)
        return (desk, seqs[i - 1]) if i else None

    preds: dict[tuple, set] = {}
    for n in nodes:
        p = set()
        own = upto(n.ident[0], n.ident[1] - 1)
        if own:
            p.add(own)
        for desk, seq in n.seen.items():
            if desk != n.ident[0]:
                q = upto(desk, seq)
                if q:
                    p.add(q)
        p.update(r for r in n.refs if r in present and r != n.ident)
        preds[n.ident] = p
    key = {n.ident: (_instant(n.at), n.ident[0], n.ident[1]) for n in nodes}
    after: dict[tuple, list] = {}
    for x, ps in preds.items():
        for q in ps:
            after.setdefault(q, []).append(x)
    waiting = {x: len(ps) for x, ps in preds.items()}
    ready = [(key[x], x) for x, c in waiting.items() if c == 0]
    heapq.heapify(ready)
    out: list[tuple[str, int]] = []
    done: set = set()
    while len(out) < len(nodes):
        if not ready:  # a cycle: take the first of the rest in tie order
            x = min((k, x) for x, k in key.items() if x not in done)[1]
            waiting[x] = 0
            heapq.heappush(ready, (key[x], x))
        _, x = heapq.heappop(ready)
        if x in done:
            continue
        done.add(x)
        out.append(x)
        for y in after.get(x, []):
            waiting[y] -= 1
            if waiting[y] == 0 and y not in done:
                heapq.heappush(ready, (key[y], y))
    return out


def entry_nodes(entries: list[TimelineEntry], store_id: str) -> list[Node]:
    """The merge's view of an incident's entries as this desk holds them (local order)."""
    by_seq = {e.seq: e for e in entries}
    running: dict[str, int] = {}
    out = []
    for e in entries:
        ident = e.identity(store_id)
        if e.origin is not None:
            seen = {d: s for d, s in (e.origin.get("seen") or {}).items()}
        else:  # written here: after everything this desk held then
            seen = {d: s for d, s in running.items() if d != store_id}
        refs = []
        doc = {"corrects": e.corrects, "data": e.data}
        for k in REF_KEYS:
            v = ref_value(doc, k)
            if isinstance(v, int) and v in by_seq:
                refs.append(by_seq[v].identity(store_id))
        out.append(Node(ident, e.at, seen, tuple(refs)))
        running[ident[0]] = max(running.get(ident[0], 0), ident[1])
    return out


def fold_order(entries: list[TimelineEntry], store_id: str) -> list[TimelineEntry]:
    """``entries`` in causal_order (an incident holding entries of several desks)."""
    by_ident = {e.identity(store_id): e for e in entries}
    return [by_ident[i] for i in causal_order(entry_nodes(entries, store_id))]


def missing_items(intake: dict[str, Any]) -> list[str]:
    """Which of the four PoC items are still empty."""
    missing = []
    if not (intake.get("found_at") or (intake.get("found_at_text") or "").strip()):
        missing.append("found_at")
    if not (intake.get("place") or "").strip():
        missing.append("place")
    if not (intake.get("what") or "").strip():
        missing.append("what")
    reporter = intake.get("reporter") or {}
    if not any((reporter.get(k) or "").strip() for k in ("name", "contact")):
        missing.append("reporter")
    return missing


def summary_line(text: str, width: int = 60) -> str:
    first = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    return first if len(first) <= width else first[: width - 1] + "…"


@dataclass
class Incident:
    """The state of one incident, folded from its timeline."""

    id: str
    entries: list[TimelineEntry] = field(default_factory=list)
    intake: dict[str, Any] = field(default_factory=dict)
    received_at: str | None = None
    status: str = "open"
    type_id: str | None = None
    level: int | None = None
    priority: str | None = None
    phase: str | None = None
    classifications: list[dict[str, Any]] = field(default_factory=list)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    drill: bool = False          # 訓練 (at intake, or csirt_tui.response.mark_drill; the latest entry wins)

    @classmethod
    def from_entries(cls, incident_id: str, entries: list[TimelineEntry], *, store_id: str = "") -> "Incident":
        """The incident its entries make. Entries of one desk are applied in their order; an
        incident that also holds entries of other desks (docs/exchange.md) is folded in
        :func:`causal_order`, so that every desk holding the same entries shows the same state.
        ``entries`` keeps the record's own order either way."""
        inc = cls(id=incident_id)
        if any(e.origin is not None for e in entries):
            for e in fold_order(entries, store_id):
                inc.apply(e)
            inc.entries = list(entries)
        else:
            for e in entries:
                inc.apply(e)
        return inc

    def apply(self, e: TimelineEntry) -> None:
        self.entries.append(e)
        d = e.data or {}
        if e.kind == "intake":
            self.intake = dict(d)
            self.received_at = d.get("received_at") or e.at
            self.drill = bool(d.get("drill"))  # marked a drill at intake (csirt_tui.drill.start_drill)
        elif e.kind == "correction" and isinstance(d.get("intake"), dict):
            self.intake = {**self.intake, **d["intake"]}
            if d["intake"].get("received_at"):
                self.received_at = d["intake"]["received_at"]
        elif e.kind in ("classification", "triage"):
            record = {"seq": e.seq, "at": e.when, "operator": e.operator, **d}
            self.classifications.append(record)
            for key, attr in (("type", "type_id"), ("level", "level"), ("priority", "priority")):
                if key in d:
                    setattr(self, attr, d[key])
            if d.get("not_incident"):
                self.status = "not_incident"
        elif e.kind == "step":
            step_id = d.get("step")
            if step_id:
                self.steps[step_id] = {"seq": e.seq, "at": e.when, "operator": e.operator, **d}
                if d.get("phase"):
                    self.phase = d["phase"]
        elif e.kind == "notification":
            self.notifications.append({"seq": e.seq, "at": e.when, "operator": e.operator, **d})
        elif e.kind == "evidence":
            self.evidence.append({"seq": e.seq, "at": e.when, "operator": e.operator, **d})
        elif e.kind == "close":
            self.status = d.get("status", "closed")
            self.phase = d.get("phase", self.phase)
        elif e.kind == "reopen":
            self.status = "open"
        elif e.kind == "decision" and d.get("decision") == "drill":
            self.drill = bool(d.get("drill"))
        if "phase" in d and e.kind in ("triage", "decision"):
            self.phase = d["phase"]

    @property
    def missing(self) -> list[str]:
        return missing_items(self.intake)

    @property
    def summary(self) -> str:
        return summary_line(self.intake.get("what", ""))

    def index_doc(self) -> dict[str, Any]:
        """The dashboard row kept in the index (derived; rebuildable from the timeline)."""
        row = {
            "id": self.id,
            "received_at": self.received_at,
            "channel": self.intake.get("channel"),
            "reporter_type": self.intake.get("reporter_type"),
            "type": self.type_id,
            "level": self.level,
            "priority": self.priority,
            "phase": self.phase,
            "status": self.status,
            "summary": self.summary,
            "place": summary_line(self.intake.get("place", ""), 40),
            "reporter": summary_line((self.intake.get("reporter") or {}).get("name", ""), 30),
            "missing": self.missing,
            "drill": self.drill,
        }
        first = self.entries[0] if self.entries else None
        if first is not None and first.origin:  # taken by another desk: its number there (search finds it)
            row["alias"] = f"{first.origin['incident']}@{first.origin['store']}"
        return row
