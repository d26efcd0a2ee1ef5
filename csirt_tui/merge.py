"""Decisions two desks made apart (docs/exchange.md, section 3).

An incident that holds entries of several desks is folded in one order on every desk
(``model.causal_order``): the state is the decision that comes last in it. What the
other desk decided differently stays on the record; :func:`decided_apart` finds it so that a
screen can say 「隔離端末1 は 12:30 にレベル2 と記録しています」.
"""

from __future__ import annotations

from typing import Any

from .model import STATUS_LABELS, STEP_STATUSES, Incident, TimelineEntry, fold_order


def _desk(e: TimelineEntry, store_id: str) -> str:
    return (e.origin or {}).get("store", store_id)


def _decisions(e: TimelineEntry) -> list[tuple[str, Any]]:
    """(what, value) pairs an entry decides."""
    d = e.data or {}
    out: list[tuple[str, Any]] = []
    if e.kind in ("triage", "classification"):
        for key, name in (("type", "種別"), ("level", "レベル"), ("priority", "優先度")):
            if key in d:
                out.append((name, d[key]))
        if d.get("not_incident"):
            out.append(("状態", STATUS_LABELS["not_incident"]))
    elif e.kind == "step" and d.get("step") and d.get("status"):
        out.append((f"手順 {d['step']}", STEP_STATUSES.get(d["status"], d["status"])))
    elif e.kind == "close":
        out.append(("状態", STATUS_LABELS.get(d.get("status", "closed"), d.get("status"))))
    elif e.kind == "reopen":
        out.append(("状態", STATUS_LABELS["open"]))
    return out


def decided_apart(incident: Incident, store_id: str) -> list[dict[str, Any]]:
    """Where the desks' latest decisions differ: for each such thing, the value the state
    follows and every other desk's own latest one (who, when). Empty for an incident of one
    desk, or when the desks agree."""
    if not any(e.origin is not None for e in incident.entries):
        return []
    latest: dict[str, dict[str, tuple[Any, TimelineEntry]]] = {}  # what -> desk -> (value, entry)
    order: list[str] = []
    place: dict[int, int] = {}
    for n, e in enumerate(fold_order(incident.entries, store_id)):
        place[e.seq] = n
        for what, value in _decisions(e):
            if what not in latest:
                latest[what] = {}
                order.append(what)
            latest[what][_desk(e, store_id)] = (value, e)
    out = []
    for what in order:
        by_desk = latest[what]
        if len({repr(v) for v, _ in by_desk.values()}) < 2:
            continue
        last_desk, (value, entry) = max(by_desk.items(), key=lambda kv: place[kv[1][1].seq])
        others = [{"desk": desk, "value": v, "at": e.at, "operator": e.operator}
                  for desk, (v, e) in by_desk.items() if desk != last_desk]
        out.append({"what": what, "value": value, "desk": last_desk, "at": entry.at, "operator": entry.operator,
                    "others": others})
    return out


RULE = "状態の決め方: 相手の記録を見て書いたものが後。互いに知らずに書いたものどうしは記録した時刻が後のもの"


def desk_name(store, store_id: str, names: dict[str, str] | None = None) -> str:
    """How the screens name a desk: 「このデスク」, the name it gave itself, or its id's start."""
    if store_id == store.store_id:
        return "このデスク"
    from .peers import desk_names

    names = desk_names(store) if names is None else names
    return names.get(store_id) or store_id[:6]


def alias_of(store, incident: Incident, names: dict[str, str] | None = None) -> str | None:
    """「2026-0003@隔離端末1」: the incident's number at the desk that took the report, when that
    is another desk (search and the CLI accept it: csirt_tui/uids.py resolve)."""
    first = incident.entries[0] if incident.entries else None
    if first is None or not first.origin:
        return None
    return f"{first.origin['incident']}@{desk_name(store, first.origin['store'], names)}"


def exchange_lines(store, incident: Incident) -> tuple[str | None, list[str]]:
    """What the incident screen (and ``show``) says of other desks: the incident's number at the
    desk that took it (None: this desk), and 「判断が分かれています」 with each desk's latest decision
    and which one is the state, by the rule (empty: the desks agree, or one desk wrote it all)."""
    from .peers import desk_names
    from .views import level_label, short_time, type_label

    if not any(e.origin is not None for e in incident.entries):
        return None, []
    names = desk_names(store)
    alias = alias_of(store, incident, names)
    apart = decided_apart(incident, store.store_id)
    if not apart:
        return (f"受け付けたデスクでの番号: {alias}" if alias else None), []

    def shown(what: str, value: Any) -> str:
        if what == "レベル":
            return level_label(value)
        if what == "種別":
            return type_label(store.profile, value)
        return str(value)

    out = ["判断が分かれています (どちらの判断も記録に残っています):"]
    for d in apart:
        others = "、".join(f"{desk_name(store, o['desk'], names)} は {shown(d['what'], o['value'])}"
                          f" ({short_time(o['at'])} {o['operator']})" for o in d["others"])
        out.append(f"  {d['what']}: 状態は {shown(d['what'], d['value'])} ({desk_name(store, d['desk'], names)}"
                   f" {short_time(d['at'])} {d['operator']})。{others}")
    out.append(f"  ({RULE})")
    return (f"受け付けたデスクでの番号: {alias}" if alias else None), out
