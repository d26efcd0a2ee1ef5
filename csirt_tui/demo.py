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
        specs.append({"kind": event["kind"], "text": event.get("text", ""), "data": data,
                      "operator": event.get("operator", operator), "at": to_iso(at)})
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


def build_large(store, *, incidents: int, entries: int, seed: int = 7, batch: int = 500) -> int:
    """A large synthetic store (benchmarks): ``incidents`` incidents with about
    ``entries`` timeline entries each, spread over the last two years."""
    rng = random.Random(seed)
    profile = store.profile
    types = [t["id"] for t in profile.incident_types]
    steps = [(ph["id"], st["id"], st["label"]) for ph in profile.phases for st in ph["steps"]]
    first_phase = profile.phases[0]["id"]
    sources = [s["id"] for s in profile.report_sources]
    channels = [c["id"] for c in profile.channels]
    now = store.now()
    made = 0
    starts = sorted(now - timedelta(minutes=rng.randrange(60, 2 * 365 * 24 * 60)) for _ in range(incidents))
    for lo in range(0, incidents, batch):
        items = []
        for received in starts[lo:lo + batch]:
            what = f"{rng.choice(_WORDS)}の{rng.choice(('不具合', '停止', '不審な通信', '紛失', '感染の疑い'))}について連絡あり"
            intake = {
                "received_at": to_iso(received), "channel": rng.choice(channels),
                "reporter_type": rng.choice(sources), "found_at_text": "さっき",
                "found_at": to_iso(received - timedelta(minutes=10)),
                "place": f"本庁舎{rng.randint(1, 7)}階", "what": what, "memo": "",
                "reporter": {"name": f"試験 太郎{rng.randint(1, 99)}", "section": "総務課",
                             "contact": f"内線{rng.randint(2000, 2999)}"}, "extras": {},
            }
            specs = []
            at = received
            span = max((now - received).total_seconds() / max(entries, 1), 1)
            type_id = rng.choice(types)
            for k in range(max(entries - 1, 0)):
                at = at + timedelta(seconds=rng.uniform(0.2, 1.0) * span)
                at = min(at, now)
                if k == 0:
                    specs.append({"kind": "triage", "text": "トリアージ", "operator": "試験 花子", "at": to_iso(at),
                                  "data": {"type": type_id, "level": rng.choice((0, 1, 1, 2)), "phase": first_phase}})
                elif k % 5 == 0:
                    ph, st, label = rng.choice(steps)
                    specs.append({"kind": "step", "text": f"{label}: 対応中", "operator": "試験 花子",
                                  "at": to_iso(at), "data": {"phase": ph, "step": st, "status": "doing"}})
                else:
                    specs.append({"kind": "note", "text": f"経過メモ {k}: {rng.choice(_WORDS)}を確認",
                                  "operator": "試験 花子", "at": to_iso(at)})
            items.append((intake, specs))
        made += len(store.bulk_create(items, durable=False))
    return made
