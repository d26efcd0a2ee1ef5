"""Taking in a bundle (docs/exchange.md): what it would change, decided before anything is
written. :func:`plan_import` compares a checked payload (csirt_tui.bundle) with the store:
which incidents are new here, which entries each incident gains, and what must be refused
(an entry this desk holds with other content, an incident that arrives without its intake,
a reference to an entry neither side has). The plan is what ``bundle import --dry-run``
shows; applying it is the store's (one atomic import).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .bundle import REF_KEYS, BundleError, identity, incident_uid
from .model import _instant


@dataclass
class IncidentPlan:
    uid: tuple[str, str]            # (desk that took the report, its number there)
    local_id: str | None            # this desk's number; None: new here
    sender_id: str                  # the sender's number (an alias here when it differs)
    entries: list[dict[str, Any]] = field(default_factory=list)  # wire entries to append, in order
    known: int = 0                  # entries of the bundle this desk holds already


@dataclass
class ImportPlan:
    sender: dict[str, Any]
    incidents: list[IncidentPlan]

    @property
    def new_incidents(self) -> list[IncidentPlan]:
        return [p for p in self.incidents if p.local_id is None]

    @property
    def new_entries(self) -> int:
        return sum(len(p.entries) for p in self.incidents)

    @property
    def changes_nothing(self) -> bool:
        return self.new_entries == 0

    def lines(self) -> list[str]:
        """The dry run, in words."""
        out = [f"{self.sender.get('desk') or self.sender['store']} からのバンドル: "
               f"新しいインシデント {len(self.new_incidents)} 件、新しい記録 {self.new_entries} 件"]
        for p in self.incidents:
            if not p.entries:
                continue
            where = "新規" if p.local_id is None else p.local_id
            alias = f" (相手の番号 {p.sender_id})" if p.sender_id != p.local_id else ""
            out.append(f"  {where}{alias}: 記録 {len(p.entries)} 件を追加 (既にある {p.known} 件)")
        if self.changes_nothing:
            out.append("  変更はありません (すべて取り込み済みです)")
        return out


def uid_map(store, store_id: str) -> dict[tuple[str, str], str]:
    """(desk, number there) → this desk's number, for every incident of the store."""
    out = {}
    for row in store.iter_incidents(status=None):
        inc = store.incident(row["id"])
        uid = incident_uid(inc, store_id)
        out[(uid["store"], uid["incident"])] = inc.id
    return out


def _order(e: dict[str, Any]) -> tuple:
    return (_instant(e["at"]), e["store"], e["seq"])


def plan_import(store, payload: dict[str, Any], *, store_id: str, family: str,
                uids: dict[tuple[str, str], str] | None = None) -> ImportPlan:
    """What taking ``payload`` (checked by csirt_tui.bundle) into ``store`` would change.
    Raises BundleError (one line) for what must be refused; nothing is written."""
    if payload["family"] != family:
        raise BundleError("別のストアのバンドルです (この端末とつながりのあるデスクのものではありません)")
    uids = uid_map(store, store_id) if uids is None else uids
    plans = []
    for rec in payload["incidents"]:
        uid = (rec["uid"]["store"], rec["uid"]["incident"])
        local_id = uids.get(uid)
        held: dict[tuple, str] = {}
        if local_id is not None:
            for e in store.incident(local_id).entries:
                held[tuple(identity(e, store_id))] = e.origin["hash"] if e.origin else e.hash
        plan = IncidentPlan(uid=uid, local_id=local_id, sender_id=rec["id"])
        seen = set(held)
        for e in sorted(rec["entries"], key=_order):
            ident = (e["store"], e["incident"], e["seq"])
            if ident in held:
                if held[ident] != e["hash"]:
                    raise BundleError(f"記録 {e['incident']}#{e['seq']} ({e['store']}) はこの端末に別の内容で"
                                      "あります。取り込みません")
                plan.known += 1
                continue
            if ident in seen:
                continue  # the same entry twice in the bundle (checked: the same content)
            seen.add(ident)
            plan.entries.append(e)
        if local_id is None and plan.entries and (plan.entries[0]["kind"] != "intake"
                                                  or (plan.entries[0]["store"], plan.entries[0]["incident"]) != uid):
            raise BundleError(f"{rec['id']}: この端末にないインシデントの一部だけのバンドルです。"
                              "相手の端末でこのインシデントを丸ごと書き出してください")
        for e in plan.entries:
            for key in REF_KEYS:
                target = e["refs"].get(key)
                if target is not None and tuple(target) not in seen:
                    raise BundleError(f"{rec['id']}: 記録 #{e['seq']} が、どちらの端末にもない記録を指しています")
        plans.append(plan)
    return ImportPlan(sender=payload["sender"], incidents=plans)
