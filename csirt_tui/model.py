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

    def merge_key(self, store_id: str) -> tuple[datetime, str, int]:
        """Where the entry stands when an incident holds entries of several desks: by its
        recorded time, then its desk's id, then its number at that desk (the same order on
        every desk; ``store_id``: the desk this entry is read on)."""
        origin = self.origin or {}
        return (_instant(self.at), origin.get("store", store_id), origin.get("seq", self.seq))


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
    drill: bool = False          # 訓練 (csirt_tui.response.mark_drill; the latest decision wins)

    @classmethod
    def from_entries(cls, incident_id: str, entries: list[TimelineEntry], *, store_id: str = "") -> "Incident":
        """The incident its entries make. Entries of one desk are applied in their order; an
        incident that also holds entries of other desks (docs/exchange.md) is folded in
        ``merge_key`` order, so that every desk holding the same entries shows the same state.
        ``entries`` keeps the record's own order either way."""
        inc = cls(id=incident_id)
        if any(e.origin is not None for e in entries):
            for e in sorted(entries, key=lambda e: e.merge_key(store_id)):
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
        return {
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
