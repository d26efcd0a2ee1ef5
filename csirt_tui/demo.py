"""Demo stores: realistic incidents for trying the app, and large stores for benchmarks.

The demo incidents are data (``data/demo/<profile>.toml``): each scenario
has an intake and a list of events, placed relative to "now" so the demo
always looks current. Names and numbers in them are fictional.
"""

from __future__ import annotations

import random
import tomllib
from datetime import datetime, timedelta
from typing import Any

from .errors import DomainError
from .resources import demo_dir
from .timeparse import parse_time, to_iso


def load_scenarios(profile_id: str) -> list[dict[str, Any]]:
    path = demo_dir() / f"{profile_id}.toml"
    if not path.exists():
        raise DomainError(f"{path}: このプロファイルのデモデータがありません")
    with open(path, "rb") as fh:
        return tomllib.load(fh).get("incident", [])


def _at(now: datetime, scenario: dict[str, Any]) -> datetime:
    hh, mm = (int(x) for x in scenario.get("time", "09:00").split(":"))
    day = (now + timedelta(days=int(scenario.get("day", 0)))).replace(hour=hh, minute=mm, second=0, microsecond=0)
    return min(day, now - timedelta(minutes=5))


def demo_triage(profile, event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The (text, data) of a demo "triage" event as the triage screen records it
    (csirt_tui.triage.triage_entry): the type, the first example of the event's level ticked
    (or the event's ``ticked``), the context asked at triage (personal data by its label or id,
    the network segment, the asset classes: the event's ``asset_classes`` or the report form's
    default confidentiality class) and the fact check done. The demo's own words follow as a note."""
    from .triage import Triage, TriageContext, level_examples

    type_id = event.get("type")
    ticked = list(event.get("ticked") or [])
    if not ticked and event.get("level") is not None:  # the example the demo's words name, else the first
        from difflib import SequenceMatcher

        said = event.get("text", "")
        said = said.partition("（")[2].partition("）")[0] or said
        of_level = [(k, t) for k, lv, t, _g in level_examples(profile, type_id) if lv == event["level"]]
        of_level.sort(key=lambda kt: -SequenceMatcher(None, kt[1], said).ratio())
        ticked = [k for k, _t in of_level][:1]
    personal = event.get("personal_data")
    known = {p["label"]: p["id"] for p in profile.context.get("personal_data", ())}
    personal = known.get(personal, personal) if personal else None
    if personal not in known.values():
        personal = None
    classes = dict(event.get("asset_classes") or {})
    if "confidentiality" not in classes:
        default = profile.report_form["classification_default"]
        conf = (profile.context.get("asset_classes") or {}).get("confidentiality") or []
        found = next((c["id"] for c in conf if c["label"] == default), None)
        if found:
            classes["confidentiality"] = found
    segments = {s["id"] for s in profile.context.get("segments", ())}
    context = TriageContext(personal_data=personal, segment=event.get("segment") if event.get("segment") in segments
                            else None, asset_classes=classes, crime=bool(event.get("crime")))
    return _core_triage(profile, Triage(fact_check="done", type_id=type_id, ticked=ticked, context=context,
                                        fault_type=event.get("fault_type"),
                                        fault_checks=list(event.get("fault_checks") or []),
                                        exclusion=event.get("exclusion"),
                                        is_incident=False if event.get("not_incident") else None))


def _core_triage(profile, triage) -> tuple[str, dict[str, Any]]:
    from .triage import triage_entry

    return triage_entry(profile, triage)


def scenario_items(profile, scenario: dict[str, Any], now: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The intake and entry specs of one scenario, with real times."""
    received = _at(now, scenario)
    found_text = scenario.get("found_at", "")
    found = to_iso(parse_time(found_text, received)) if found_text else None
    intake = {
        "received_at": to_iso(received),
        "channel": scenario.get("channel"),
        "reporter_type": scenario.get("reporter_type"),
        "found_at_text": found_text,
        "found_at": found,
        "place": scenario.get("place", ""),
        "what": scenario.get("what", ""),
        "memo": scenario.get("memo", ""),
        "reporter": {k: scenario.get("reporter", {}).get(k, "") for k in ("name", "section", "contact")},
        "extras": dict(scenario.get("extras", {})),
    }
    operator = scenario.get("operator", "デモ操作者")
    specs = []
    last = received
    for event in scenario.get("events", []):
        at = received + timedelta(minutes=int(event.get("after", 0)))
        at = max(min(at, now), last)
        last = at
        data = {k: v for k, v in event.items() if k not in ("after", "kind", "text", "operator")}
        who = event.get("operator", operator)
        if event["kind"] == "triage" and event.get("type"):  # the triage screen's own record, then the demo's words
            text, data = demo_triage(profile, event)
            specs.append({"kind": "triage", "text": text, "data": data, "operator": who, "at": to_iso(at)})
            if event.get("text"):
                specs.append({"kind": "note", "text": event["text"], "data": {}, "operator": who, "at": to_iso(at)})
            continue
        specs.append({"kind": event["kind"], "text": event.get("text", ""), "data": data,
                      "operator": who, "at": to_iso(at)})
    return intake, specs


def build_demo(store, *, operator: str = "デモ操作者") -> list[str]:
    """Fill a store with the profile's demo incidents (every phase, type and level)."""
    now = store.now()
    profile = store.profile
    items = [scenario_items(profile, s, now) for s in load_scenarios(profile.id)]
    items.sort(key=lambda item: item[0]["received_at"])  # numbers follow the receipt order
    ids = store.bulk_create(items, durable=True)
    roster = demo_dir() / f"{profile.id}-roster.toml"
    if roster.exists() and not store.list_people():
        with open(roster, "rb") as fh:
            for person in tomllib.load(fh).get("person", []):
                store.add_person(person, operator=operator)
        from .roster import mark_reviewed

        mark_reviewed(store, operator=operator)  # a fresh demo roster counts as just reviewed
    return ids


_WORDS = ("サーバ", "端末", "ネットワーク", "メール", "ウイルス", "USBメモリ", "ファイル共有", "ホームページ",
          "庁内LAN", "基幹系", "窓口端末", "プリンタ", "無線LAN", "クラウド", "バックアップ")


def large_items(profile, now: datetime, *, incidents: int, entries: int, seed: int = 7, years: int = 5,
                open_count: int = 50):
    """The (intake, entry specs) of a large synthetic store, oldest first (a generator):
    ``incidents`` incidents over the last ``years`` years with about ``entries`` entries
    each, as a desk's record looks after some years: all closed (収束; about one in
    twenty インシデントではない) but ``open_count`` still open, most of them the newest,
    a few older ones (long-running cases). The entries are those the desk writes:
    受付, トリアージ, 手順 and メモ, and a 収束 as :func:`csirt_tui.response.close_incident` records it."""
    rng = random.Random(seed)
    types = [t["id"] for t in profile.incident_types]
    steps = [(ph["id"], st["id"], st["label"]) for ph in profile.phases for st in ph["steps"]]
    first_phase = profile.phases[0]["id"]
    sources = [s["id"] for s in profile.report_sources]
    channels = [c["id"] for c in profile.channels]
    starts = sorted(now - timedelta(minutes=rng.randrange(60, max(years, 1) * 365 * 24 * 60))
                    for _ in range(incidents))
    n_open = min(open_count, incidents)
    old_open = n_open // 5
    opened = set(range(incidents - (n_open - old_open), incidents))
    while len(opened) < n_open:
        opened.add(rng.randrange(incidents))
    for i, received in enumerate(starts):
        what = f"{rng.choice(_WORDS)}の{rng.choice(('不具合', '停止', '不審な通信', '紛失', '感染の疑い'))}について連絡あり"
        intake = {
            "received_at": to_iso(received), "channel": rng.choice(channels),
            "reporter_type": rng.choice(sources), "found_at_text": "さっき",
            "found_at": to_iso(received - timedelta(minutes=10)),
            "place": f"本庁舎{rng.randint(1, 7)}階", "what": what, "memo": "",
            "reporter": {"name": f"試験 太郎{rng.randint(1, 99)}", "section": "総務課",
                         "contact": f"内線{rng.randint(2000, 2999)}"}, "extras": {},
        }
        is_open = i in opened
        # a closed incident was worked on for hours to weeks; an open one is still going
        until = now if is_open else min(received + timedelta(hours=rng.uniform(2, 24 * 21)), now)
        count = max(entries - 1, 0)
        span = max((until - received).total_seconds() / max(count, 1), 1)
        specs = []
        at = received
        type_id = rng.choice(types)
        for k in range(count):
            at = min(at + timedelta(seconds=rng.uniform(0.2, 1.0) * span), until)
            if k == count - 1 and not is_open:
                if rng.random() < 0.05:  # as csirt_tui.triage records it
                    specs.append({"kind": "close", "text": "インシデントではない: 調査の結果、業務上の操作と判明",
                                  "operator": "試験 花子", "at": to_iso(at), "data": {"status": "not_incident"}})
                else:  # as csirt_tui.response.close_incident records it
                    note = "対応の完了を確認"
                    specs.append({"kind": "close", "text": f"収束: {note}\n確認の内容: {note}",
                                  "operator": "試験 花子", "at": to_iso(at), "data": {
                                      "status": "closed", "note": note, "open_steps": [],
                                      "open_notifications": [], "warnings": [], "forced": False}})
            elif k == 0:
                specs.append({"kind": "triage", "text": "トリアージ", "operator": "試験 花子", "at": to_iso(at),
                              "data": {"type": type_id, "level": rng.choice((0, 1, 1, 2)), "phase": first_phase}})
            elif k % 5 == 0:
                ph, st, label = rng.choice(steps)
                specs.append({"kind": "step", "text": f"{label}: 対応中", "operator": "試験 花子",
                              "at": to_iso(at), "data": {"phase": ph, "step": st, "status": "doing"}})
            else:
                specs.append({"kind": "note", "text": f"経過メモ {k}: {rng.choice(_WORDS)}を確認",
                              "operator": "試験 花子", "at": to_iso(at)})
        yield intake, specs


def build_large(store, *, incidents: int, entries: int, seed: int = 7, years: int = 5,
                open_count: int = 50) -> int:
    """A large synthetic store (benchmarks): see :func:`large_items`. Written by
    :meth:`Store.bulk_create` (chained, hashed, anchored and indexed as the desk's own
    writes; files verify), in one pass: one year's closed rows in memory at a time."""
    items = large_items(store.profile, store.now(), incidents=incidents, entries=entries, seed=seed,
                        years=years, open_count=open_count)
    return len(store.bulk_create(items, durable=False))
