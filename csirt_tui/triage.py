"""Guided triage: from a report to a level, a priority and who must be told.

Core logic of the triage screen (no textual here). The handler's answers are a
:class:`Triage`; everything derived from them (suggested and final level,
incident or not, priority with its reasons, parties to tell, first steps) is
computed by :func:`assess`, and :func:`record_triage` puts the answers and the
result on the record:

    triage / classification entry   (the answers, level, priority, reasons)
    notification entries            (one per party to tell, status "todo")
    step entries                    (the first phase's steps, status "todo")

Level 0 / not an incident (つくば 4(2)②(III)): :func:`record_triage` records
the decision only; :func:`record_not_incident` then records the report to the
CSIRT管理者, the reply to the reporter, an optional staff warning and closes
the incident with status ``not_incident`` (インシデントではない). An exclusion of
the incident type (planned maintenance stop, paper-only loss) is closed the
same way by :func:`exclusion_close`, with ``data.exclusion`` naming it.

Sources: つくば 4(2)② and 別表1, むつ 別表第2, 大崎 2条・4条(2)(3)・5条,
水戸 3(1), むつ市情報セキュリティポリシー (network segments).
The priority rule is the profile's ``[priority]`` section (docs/profile-format.md).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import DomainError
from .model import TimelineEntry
from .profiles import PRIORITY_LABELS

__all__ = [
    "FACT_CHECK_LABELS",
    "TriageContext",
    "Triage",
    "Assessment",
    "TriageError",
    "level_examples",
    "example_key",
    "suggested_level",
    "final_level",
    "fault_options",
    "has_personal_data",
    "long_stop_of",
    "is_incident",
    "validate",
    "compute_priority",
    "parties",
    "first_steps",
    "assess",
    "report_to_default",
    "record_triage",
    "record_not_incident",
    "exclusion_close",
]

# the record's words for what the handler chose on the triage screen (「確認中（保留のまま進める）」
# was recorded 「事実確認: 未了」, a word the screen never showed)
FACT_CHECK_LABELS = {
    "done": "確認済み",
    "pending": "確認中（保留のまま進めた）",
    "not_needed": "不要",
}

ASSET_CLASS_KINDS = {
    "confidentiality": "機密性",
    "integrity": "完全性",
    "availability": "可用性",
}

# personal_data ids that mean "no personal data" (None = 未確認).
NO_PERSONAL_DATA = "none"

OVERRIDE_REASON_MESSAGE = "レベルを変更する理由を入力してください"
DECISION_REASON_MESSAGE = "インシデントかどうかの判断を変える理由を入力してください"


class TriageError(DomainError):
    """The answers cannot be recorded; ``problems`` lists each (Japanese) and
    ``str(err)`` is one line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("トリアージを記録できません: " + " / ".join(self.problems))


# ---------------------------------------------------------------------------
# The answers


@dataclass
class TriageContext:
    """Context that raises severity (asked and recorded with the level)."""

    personal_data: str | None = None      # id of profile.context["personal_data"]; None = 未確認
    encrypted: bool | None = None         # 暗号化; None = 不明
    segment: str | None = None            # id of profile.context["segments"]
    asset_classes: dict[str, str] = field(default_factory=dict)  # {"confidentiality": "c3a", …}
    outward_attack: bool = False          # 外部に向けた攻撃
    crime: bool = False                   # 犯罪の可能性 → 警察
    stop_hours: float | None = None       # 想定される停止時間（時間）
    long_stop: bool = False               # 長期間の停止（ticked; see long_stop_of）

    def to_dict(self) -> dict[str, Any]:
        return {
            "personal_data": self.personal_data,
            "encrypted": self.encrypted,
            "segment": self.segment,
            "asset_classes": dict(self.asset_classes),
            "outward_attack": self.outward_attack,
            "crime": self.crime,
            "stop_hours": self.stop_hours,
            "long_stop": self.long_stop,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "TriageContext":
        d = d or {}
        return cls(
            personal_data=d.get("personal_data"),
            encrypted=d.get("encrypted"),
            segment=d.get("segment"),
            asset_classes=dict(d.get("asset_classes") or {}),
            outward_attack=bool(d.get("outward_attack", False)),
            crime=bool(d.get("crime", False)),
            stop_hours=d.get("stop_hours"),
            long_stop=bool(d.get("long_stop", False)),
        )


@dataclass
class Triage:
    """Everything the handler answered; all of it goes on the record (``answers``)."""

    fact_check: str = "pending"           # "done" | "pending" | "not_needed"
    fact_check_note: str = ""
    type_id: str | None = None
    exclusion: str | None = None          # an exclusion id of the chosen type → 対象外
    ticked: list[str] = field(default_factory=list)   # example keys, see example_key()
    fault_type: str | None = None         # 大崎 障害: fault_types id
    fault_checks: list[str] = field(default_factory=list)  # the check items ticked (verbatim)
    context: TriageContext = field(default_factory=TriageContext)
    level_override: int | None = None
    override_reason: str = ""
    is_incident: bool | None = None       # None = follow the level (level 0 → not an incident)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fact_check": self.fact_check,
            "fact_check_note": self.fact_check_note,
            "type_id": self.type_id,
            "exclusion": self.exclusion,
            "ticked": list(self.ticked),
            "fault_type": self.fault_type,
            "fault_checks": list(self.fault_checks),
            "context": self.context.to_dict(),
            "level_override": self.level_override,
            "override_reason": self.override_reason,
            "is_incident": self.is_incident,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "Triage":
        d = d or {}
        return cls(
            fact_check=d.get("fact_check", "pending"),
            fact_check_note=d.get("fact_check_note") or "",
            type_id=d.get("type_id"),
            exclusion=d.get("exclusion"),
            ticked=list(d.get("ticked") or []),
            fault_type=d.get("fault_type"),
            fault_checks=list(d.get("fault_checks") or []),
            context=TriageContext.from_dict(d.get("context")),
            level_override=d.get("level_override"),
            override_reason=d.get("override_reason") or "",
            is_incident=d.get("is_incident"),
        )


# ---------------------------------------------------------------------------
# Level tables


def _table(profile, type_id: str | None) -> dict | None:
    if not type_id:
        return None
    try:
        return profile.level_table_for(type_id)
    except KeyError:
        return None


def _level_entry(table: dict | None, level: int | None) -> dict | None:
    if table is None or level is None:
        return None
    for entry in table["levels"]:
        if entry["level"] == level:
            return entry
    return None


def example_key(level: int, index: int, group_index: int | None = None) -> str:
    """The key of one example of a level table.

    ``index`` and ``group_index`` are 0-based positions in the lists; the key
    numbers them from 1 as the screen does: ``example_key(2, 0)`` = ``"L2.1"``
    (first of ``examples``), ``example_key(3, 1, 0)`` = ``"L3.1.2"`` (second
    example of the first of ``example_groups``)."""
    if group_index is None:
        return f"L{level}.{index + 1}"
    return f"L{level}.{group_index + 1}.{index + 1}"


def level_examples(profile, type_id: str | None) -> list[tuple[str, int, str, str | None]]:
    """(key, level, text, group) of every example of the type's level table, in table
    order (within a level: ``examples`` first, then each of ``example_groups``).
    ``group`` is the group's name (大崎 「物理的侵入」…) or None. [] if the type has no table."""
    table = _table(profile, type_id)
    if table is None:
        return []
    out: list[tuple[str, int, str, str | None]] = []
    for entry in table["levels"]:
        level = entry["level"]
        for i, text in enumerate(entry.get("examples", ())):
            out.append((example_key(level, i), level, text, None))
        for g, group in enumerate(entry.get("example_groups", ())):
            for i, text in enumerate(group["examples"]):
                out.append((example_key(level, i, g), level, text, group["group"]))
    return out


def suggested_level(profile, type_id: str | None, ticked: list[str]) -> int | None:
    """The highest level among the ticked examples (unknown keys are ignored; see
    validate); None if nothing is ticked or the type has no level table."""
    levels = {key: level for key, level, _, _ in level_examples(profile, type_id)}
    found = [levels[key] for key in ticked if key in levels]
    return max(found) if found else None


def final_level(profile, triage: Triage) -> int | None:
    """The override when it is a level of the type's table, else the suggested level.
    (An override that is not in the table is ignored here and reported by validate.)"""
    table = _table(profile, triage.type_id)
    if triage.level_override is not None and _level_entry(table, triage.level_override) is not None:
        return triage.level_override
    return suggested_level(profile, triage.type_id, triage.ticked)


def fault_options(profile, type_id: str | None) -> list[dict]:
    """The fault types with their check items (大崎 4条(2)(3)) when the incident type
    uses them (``fault_checks = true``), else []."""
    try:
        if type_id and profile.incident_type(type_id).get("fault_checks"):
            return profile.fault_types
    except KeyError:
        pass
    return []


# ---------------------------------------------------------------------------
# Context


def has_personal_data(context: TriageContext) -> bool:
    """Personal data involved: any personal_data id other than "none" (None = 未確認 → False)."""
    return context.personal_data not in (None, NO_PERSONAL_DATA)


_STOP_UNITS = {"": 1.0, "時間": 1.0, "h": 1.0, "hr": 1.0, "hrs": 1.0, "hour": 1.0, "hours": 1.0,
               "日": 24.0, "日間": 24.0, "d": 24.0, "day": 24.0, "days": 24.0, "分": 1 / 60, "分間": 1 / 60}
_STOP_HOURS = re.compile(r"(?:約|およそ)?(\d+(?:\.\d+)?)([^\d.]*?)(?:くらい|ぐらい|程度|ほど|前後)?")
STOP_HOURS_EXAMPLES = "例: 3、1.5、3時間、2日、90分"


def parse_stop_hours(text: str) -> float | None:
    """想定される停止時間 as typed (「3」「1.5」「３時間」「2日」「90分」「約4時間」) in hours; None when
    blank. Raises :class:`DomainError` when it cannot be read as a duration: the triage screen
    refuses the record then (a float() that failed made it None, and 「２日」 was dropped without a
    word: the priority raised for a long stop (大崎 4 時間) was not)."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        return None
    # blanks go between a number and its unit (「2 日」), not inside a number: 「3 30」 (3 時間 30 分?) was 330
    m = None if re.search(r"[\d.]\s+[\d.]", raw) else _STOP_HOURS.fullmatch(re.sub(r"\s+", "", raw).lower())
    unit = _STOP_UNITS.get(m.group(2)) if m else None
    if unit is None:
        raise DomainError(f"想定停止時間は時間数で入力してください（{STOP_HOURS_EXAMPLES}）: 「{text.strip()}」")
    hours = float(m.group(1)) * unit
    # a run of digits past float's range is inf (recorded as Infinity, and 「inf」 when the triage is
    # opened again, which this refuses); one past 1e16 comes back as 「1e+16」: refused the same way
    if not math.isfinite(hours) or "e" in repr(hours):
        raise DomainError(f"想定停止時間の数が大きすぎるか小さすぎます（{STOP_HOURS_EXAMPLES}）: 「{text.strip()}」")
    return hours


def long_stop_of(profile, context: TriageContext) -> bool:
    """長期間の停止: ticked, or the expected stop reaches ``priority.long_stop_hours``."""
    if context.long_stop:
        return True
    hours = context.stop_hours
    return hours is not None and hours >= profile.priority["long_stop_hours"]


def _scale(table: dict | None) -> str | None:
    return table["scale"] if table else None


def _decided_by_level(profile, triage: Triage, level: int | None) -> bool | None:
    """Incident or not as the level table says; None when it cannot say."""
    if not triage.type_id:
        return None
    table = _table(profile, triage.type_id)
    if table is None:
        return True  # a type without a level table (大崎 障害) is always handled
    entry = _level_entry(table, level)
    return None if entry is None else bool(entry["incident"])


def is_incident(profile, triage: Triage) -> bool | None:
    """The decision: False for an exclusion; the handler's is_incident if given;
    else the level's ``incident`` flag (level 0 → False). None = not decided yet."""
    if triage.exclusion:
        return False
    if triage.is_incident is not None:
        return triage.is_incident
    return _decided_by_level(profile, triage, final_level(profile, triage))


# ---------------------------------------------------------------------------
# Validation


def _ids(items) -> list[str]:
    return [i["id"] for i in items]


def validate(profile, triage: Triage) -> list[str]:
    """The problems with the answers, in Japanese, one per item (empty = can be recorded)."""
    problems: list[str] = []
    if triage.fact_check not in FACT_CHECK_LABELS:
        problems.append(f"事実確認の状態が不明です: {triage.fact_check!r}（{', '.join(FACT_CHECK_LABELS)}）")
    reason = (triage.override_reason or "").strip()

    itype = None
    if triage.type_id is not None:
        try:
            itype = profile.incident_type(triage.type_id)
        except KeyError:
            problems.append(f"インシデントの種類が不明です: {triage.type_id!r}"
                            f"（{', '.join(_ids(profile.incident_types))}）")
    if triage.type_id is None:
        if triage.is_incident is not False:
            problems.append("インシデントの種類を選んでください")
        elif not reason:
            # e.g. a hoax found by the fact check: not an incident of any type
            problems.append("種類を決めずにインシデントではないとする理由を入力してください")
        if triage.exclusion or triage.ticked or triage.level_override is not None or triage.fault_type:
            problems.append("インシデントの種類を選んでください（対象外・事例・レベル・障害の種類は種類ごとです）")
    table = profile.level_table_for(itype["id"]) if itype else None
    label = itype["label"] if itype else ""

    # exclusion
    if triage.exclusion is not None and itype is not None:
        known = _ids(itype.get("exclusions", ()))
        if triage.exclusion not in known:
            problems.append(f"対象外の事由 {triage.exclusion!r} は種類「{label}」にはありません"
                            + (f"（{', '.join(known)}）" if known else ""))
        if triage.is_incident is True:
            problems.append("対象外とした事案はインシデントとして扱えません")

    # ticked examples and level
    if itype is not None:
        keys = {k for k, _, _, _ in level_examples(profile, itype["id"])}
        unknown = [k for k in triage.ticked if k not in keys]
        if unknown and table is None:
            problems.append(f"種類「{label}」には判断基準表がありません（事例 {', '.join(unknown)}）")
        elif unknown:
            problems.append(f"事例 {', '.join(unknown)} は判断基準表「{table['title']}」にありません")
        if triage.level_override is not None:
            if table is None:
                problems.append(f"種類「{label}」には判断基準表がないため、レベルを選べません")
            elif (isinstance(triage.level_override, bool) or not isinstance(triage.level_override, int)
                  or _level_entry(table, triage.level_override) is None):
                levels = ", ".join(str(e["level"]) for e in table["levels"])
                problems.append(f"レベル {triage.level_override!r} は判断基準表「{table['title']}」にありません（{levels}）")
        suggested = suggested_level(profile, itype["id"], triage.ticked)
        if (triage.level_override is not None and triage.level_override != suggested and not reason):
            problems.append(OVERRIDE_REASON_MESSAGE)
        level = final_level(profile, triage)
        if not triage.exclusion:
            by_level = _decided_by_level(profile, triage, level)
            if table is not None and level is None and triage.is_incident is not False:
                problems.append("該当する事例にチェックを入れるか、レベルを選んでください")
            if (triage.is_incident is not None and triage.is_incident != by_level and not reason
                    and not (table is not None and level is None and triage.is_incident is True)):
                problems.append(DECISION_REASON_MESSAGE)

    # fault type (大崎 障害)
    if triage.fault_type is not None or triage.fault_checks:
        options = fault_options(profile, triage.type_id)
        if itype is not None and not itype.get("fault_checks"):
            problems.append(f"障害の種類は種類「{label}」には使えません")
        elif triage.fault_type is None:
            if itype is not None:
                problems.append("障害の種類を選んでください（確認事項は障害の種類ごとです）")
        else:
            fault = next((f for f in options if f["id"] == triage.fault_type), None)
            if fault is None and itype is not None:
                problems.append(f"障害の種類が不明です: {triage.fault_type!r}（{', '.join(_ids(options))}）")
            elif fault is not None:
                extra = [c for c in triage.fault_checks if c not in fault["checks"]]
                if extra:
                    problems.append(f"確認事項 {', '.join(map(repr, extra))} は「{fault['label']}」にありません")

    problems.extend(_validate_context(profile, triage.context))
    return problems


def _validate_context(profile, ctx: TriageContext) -> list[str]:
    problems = []
    context = profile.context
    if ctx.personal_data is not None and ctx.personal_data not in _ids(context["personal_data"]):
        problems.append(f"個人情報の区分が不明です: {ctx.personal_data!r}"
                        f"（{', '.join(_ids(context['personal_data']))}）")
    if ctx.segment is not None and ctx.segment not in _ids(context["segments"]):
        problems.append(f"ネットワーク区分が不明です: {ctx.segment!r}（{', '.join(_ids(context['segments']))}）")
    for kind, class_id in (ctx.asset_classes or {}).items():
        if kind not in ASSET_CLASS_KINDS:
            problems.append(f"情報資産の分類の観点が不明です: {kind!r}（{', '.join(ASSET_CLASS_KINDS)}）")
            continue
        known = _ids(context["asset_classes"][kind])
        if class_id not in known:
            problems.append(f"{ASSET_CLASS_KINDS[kind]}の分類が不明です: {class_id!r}（{', '.join(known)}）")
    if ctx.encrypted not in (None, True, False):
        problems.append(f"暗号化の有無は はい・いいえ・不明 のいずれかです: {ctx.encrypted!r}")
    hours = ctx.stop_hours
    if hours is not None and (isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours < 0):
        problems.append(f"想定される停止時間は 0 以上の時間数で入力してください: {hours!r}")
    return problems


# ---------------------------------------------------------------------------
# Priority, parties, first steps


def _raise_matches(profile, when: dict, ctx: TriageContext) -> bool:
    for key, want in when.items():
        if key == "personal_data":
            got = has_personal_data(ctx) if want else ctx.personal_data == NO_PERSONAL_DATA
            if not got:
                return False
        elif key == "encrypted":
            # 不明 (None) counts as not encrypted: the desk errs on the side of caution
            if (ctx.encrypted is True) != want:
                return False
        elif key == "segment":
            if ctx.segment not in want:
                return False
        elif key == "asset_class":
            if not any(v in want for v in (ctx.asset_classes or {}).values()):
                return False
        elif key == "long_stop":
            if long_stop_of(profile, ctx) != want:
                return False
        elif key in ("outward_attack", "crime"):
            if bool(getattr(ctx, key)) != want:
                return False
        else:  # pragma: no cover - the profile schema allows no other key
            return False
    return True


def compute_priority(profile, level: int | None, type_id: str | None,
                     context: TriageContext) -> tuple[str, list[str]]:
    """("高" | "中" | "低", reasons in Japanese) from the profile's ``[priority]`` rule.

    The base comes from the level (``by_level`` for a scale "level" table,
    ``by_threat`` for a scale "threat" table; ``unrated`` for a type without a
    table or a level not decided); each matching ``raise`` rule then raises it
    by one step (低→中→高), never above 高. The first reason names the base;
    one more reason per matching rule, saying what it did."""
    rule = profile.priority
    table = _table(profile, type_id)
    entry = _level_entry(table, level)
    if entry is not None:
        mapping = rule.get("by_threat" if table["scale"] == "threat" else "by_level") or {}
        base = mapping.get(str(level), rule["unrated"])
        prefix = "脅威度 " if table["scale"] == "threat" else ""
        reasons = [f"{prefix}{entry['label']}（{entry['criterion']}）: {base}"]
    else:
        base = rule["unrated"]
        if type_id and table is None:
            try:
                what = f"レベルの定めのない種類（{profile.incident_type(type_id)['label']}）"
            except KeyError:
                what = "種類が不明"
        elif type_id:
            what = "レベル未定"
        else:
            what = "種類未定"
        reasons = [f"{what}: {base}"]
    rank = PRIORITY_LABELS.index(base)  # 0 = 高
    for item in rule.get("raise", ()):
        if not _raise_matches(profile, item["when"], context):
            continue
        if rank == 0:
            reasons.append(f"{item['reason']}: 高のまま（上限）")
        else:
            before = PRIORITY_LABELS[rank]
            rank -= 1
            reasons.append(f"{item['reason']}: {before}→{PRIORITY_LABELS[rank]}")
    return PRIORITY_LABELS[rank], reasons


def parties(profile, level: int | None, type_id: str | None,
            context: TriageContext) -> list[tuple[dict, dict]]:
    """(party, rule) to tell: ``profile.parties_to_notify`` with the context mapped.

    personal_data: any id other than "none" (None = 未確認 does not count);
    on a scale "threat" table the level is passed as ``threat_level`` (and not as
    ``level``); long_stop as :func:`long_stop_of`."""
    table = _table(profile, type_id)
    threat = _scale(table) == "threat"
    return profile.parties_to_notify(
        level=None if threat else level,
        type_id=type_id,
        personal_data=has_personal_data(context),
        crime=bool(context.crime),
        threat_level=level if threat else None,
        long_stop=long_stop_of(profile, context),
    )


def first_steps(profile, type_id: str | None) -> list[tuple[dict, dict]]:
    """(phase, step) of every step of the first phase that applies to the type."""
    phases = profile.phases_for(type_id)
    if not phases:
        return []
    return [(phases[0], step) for step in phases[0]["steps"]]


def report_to_default(profile, type_id: str | None = None) -> str | None:
    """The role to report a not-an-incident decision to (つくば 4(2)②(III): CSIRT管理者):
    the first role among the parties of a level 0 decision, else None."""
    role_ids = set(_ids(profile.roles))
    for party, _rule in profile.parties_to_notify(level=0, type_id=type_id):
        if party["id"] in role_ids:
            return party["id"]
    return None


@dataclass
class Assessment:
    """What the answers amount to (the decision panel of the screen)."""

    problems: list[str]
    type_id: str | None
    scale: str | None                    # "level" | "threat" | None (no table)
    suggested_level: int | None
    level: int | None
    is_incident: bool | None             # None = not decided yet
    excluded: bool
    priority: str | None                 # None when not an incident
    priority_reasons: list[str]
    parties: list[tuple[dict, dict]]     # [] when not an incident
    steps: list[tuple[dict, dict]]       # [] when not an incident
    phase: str | None                    # first phase id when an incident
    long_stop: bool


def assess(profile, triage: Triage) -> Assessment:
    """Everything derived from the answers, without recording anything."""
    problems = validate(profile, triage)
    table = _table(profile, triage.type_id)
    excluded = bool(triage.exclusion)
    suggested = suggested_level(profile, triage.type_id, triage.ticked)
    level = None if excluded else final_level(profile, triage)
    decided = is_incident(profile, triage)
    priority, reasons, who, steps, phase = None, [], [], [], None
    if decided:
        priority, reasons = compute_priority(profile, level, triage.type_id, triage.context)
        who = parties(profile, level, triage.type_id, triage.context)
        steps = first_steps(profile, triage.type_id)
        phase = steps[0][0]["id"] if steps else None
    return Assessment(
        problems=problems, type_id=triage.type_id, scale=_scale(table), suggested_level=suggested,
        level=level, is_incident=decided, excluded=excluded, priority=priority,
        priority_reasons=reasons, parties=who, steps=steps, phase=phase,
        long_stop=long_stop_of(profile, triage.context),
    )


# ---------------------------------------------------------------------------
# Recording


def _level_text(profile, triage: Triage, level: int | None) -> str:
    table = _table(profile, triage.type_id)
    entry = _level_entry(table, level)
    if entry is None:
        return "なし（判断基準表の定めなし）" if triage.type_id and table is None else "未定"
    prefix = "脅威度 " if table["scale"] == "threat" else ""
    return f"{prefix}{entry['label']}（{entry['criterion']}）"


def _summary(profile, triage: Triage, a: Assessment) -> str:
    """The entry text: a one-line headline (what timeline lists show), then the details."""
    try:
        type_text = profile.incident_type(triage.type_id)["label"] if triage.type_id else "種類なし"
    except KeyError:  # pragma: no cover - validated before
        type_text = triage.type_id
    level_short = ""
    if a.level is not None:
        level_short = ("・脅威度 " if a.scale == "threat" else "・") + f"レベル{a.level}"
    if a.excluded:
        itype = profile.incident_type(triage.type_id)
        ex = next(e for e in itype["exclusions"] if e["id"] == triage.exclusion)
        lines = [f"対象外: {type_text}（{ex['label']}）", "CSIRT で取り扱わない事案"]
    elif a.is_incident:
        lines = [f"インシデント: {type_text}{level_short}・優先度 {a.priority}",
                 f"レベル: {_level_text(profile, triage, a.level)}"]
    else:
        lines = [f"インシデントではない: {type_text}{level_short}",
                 f"レベル: {_level_text(profile, triage, a.level)}"]
    if not a.excluded and triage.level_override is not None and triage.level_override != a.suggested_level:
        suggested = "なし" if a.suggested_level is None else f"レベル{a.suggested_level}"
        lines.append(f"レベルの変更: 事例からの判定 {suggested} → レベル{triage.level_override}"
                     f"（理由: {triage.override_reason.strip()}）")
    elif triage.is_incident is not None and triage.override_reason.strip() and not a.excluded:
        lines.append(f"判断の理由: {triage.override_reason.strip()}")
    if a.is_incident:
        lines.append("優先度の理由: " + " / ".join(a.priority_reasons))
    if triage.fault_type:
        fault = next(f for f in profile.fault_types if f["id"] == triage.fault_type)
        checks = "、".join(triage.fault_checks) if triage.fault_checks else "なし"
        lines.append(f"障害の種類: {fault['label']}（確認した事項: {checks}）")
    fact = f"事実確認: {FACT_CHECK_LABELS.get(triage.fact_check, triage.fact_check)}"
    if triage.fact_check_note.strip():
        fact += f"（{triage.fact_check_note.strip()}）"
    lines.append(fact)
    return "\n".join(lines)


def triage_entry(profile, triage: Triage, a: "Assessment | None" = None) -> tuple[str, dict[str, Any]]:
    """(text, data) of the "triage" entry :func:`record_triage` writes for ``triage`` (the demo
    builds its incidents' triage with it too: csirt_tui.demo)."""
    a = a or assess(profile, triage)
    data: dict[str, Any] = {
        "type": triage.type_id,
        "level": a.level,
        "suggested_level": a.suggested_level,
        "scale": a.scale,
        "priority": a.priority,
        "priority_reasons": a.priority_reasons,
        "not_incident": not a.is_incident,
    }
    if a.is_incident and a.phase:
        data["phase"] = a.phase
    if a.excluded:
        data["exclusion"] = triage.exclusion
    data["answers"] = triage.to_dict()
    return _summary(profile, triage, a), data


def record_triage(store, incident_id: str, triage: Triage, *, operator: str) -> list[TimelineEntry]:
    """Put the triage on the record, in one go (under the store lock), never editing
    old entries; returns the entries appended, in order.

    - a "triage" entry (the first time) or a "classification" entry (re-triage)
      with data {type, level, suggested_level, priority, priority_reasons,
      not_incident, phase (incident only), exclusion (if any), scale, answers};
    - when it is an incident: one "notification" per party to tell (status
      "todo"), skipping parties the incident already has a notification for,
      and one "step" per step of the first phase (status "todo"), skipping
      steps it already has. An incident closed as not_incident is reopened
      first ("reopen" entry) when re-triage makes it an incident.

    Refuses with :class:`TriageError` (a DomainError) when :func:`validate`
    finds problems."""
    profile = store.profile
    a = assess(profile, triage)
    if a.problems:
        raise TriageError(a.problems)
    if a.is_incident is None:  # pragma: no cover - validate reports it
        raise TriageError(["インシデントかどうかを決めてください"])
    out: list[TimelineEntry] = []
    with store.locked():
        inc = store.incident(incident_id)
        if a.is_incident and inc.status == "not_incident":
            out.append(store.append(incident_id, "reopen", "再トリアージでインシデントと判断したため再開",
                                    operator=operator, data={"reason": "retriage"}))
        text, data = triage_entry(profile, triage, a)
        kind = "classification" if inc.classifications else "triage"
        out.append(store.append(incident_id, kind, text, operator=operator, data=data))
        if not a.is_incident:
            return out
        told = {n.get("party") for n in inc.notifications}
        for party, rule in a.parties:
            if party["id"] in told:
                continue
            told.add(party["id"])
            out.append(store.append(
                incident_id, "notification", f"{party['label']}への連絡（未着手）: {rule['reason']}",
                operator=operator,
                data={"party": party["id"], "status": "todo", "rule": rule["id"], "reason": rule["reason"]}))
        for phase, step in a.steps:
            if step["id"] in inc.steps:
                continue
            out.append(store.append(
                incident_id, "step", f"{phase['label']}: {step['label']}（未着手）", operator=operator,
                data={"phase": phase["id"], "step": step["id"], "status": "todo", "note": ""}))
        if inc.classifications and inc.level is not None and a.level != inc.level:
            # つくば 4(2)④(I): a change of level is reported again (the progress-report duty)
            from .response import ask_progress_report

            out += ask_progress_report(store, incident_id, operator=operator,
                                       why=f"再トリアージでレベルが {inc.level} から {a.level} に変わった")
    return out


_REPLY_KEYS = ("who", "when", "how", "to", "note")


def _reply_time(value: Any, now: datetime) -> str:
    from .timeparse import TimeParseError, parse_time, to_iso

    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise DomainError("reply.when: タイムゾーン付きの日時で指定してください")
        return to_iso(value)
    if not isinstance(value, str) or not value.strip():
        raise DomainError("通報者へ回答した日時（いつ）を入力してください")
    try:
        return to_iso(parse_time(value, now))
    except TimeParseError as err:
        raise DomainError(f"通報者へ回答した日時: {err}") from None


def _latest_classification(inc) -> dict | None:
    return inc.classifications[-1] if inc.classifications else None


def _closed_after(inc, seq: int) -> bool:
    return any(e.kind == "close" and e.seq > seq for e in inc.entries)


def record_not_incident(store, incident_id: str, *, operator: str, reported_to: str,
                        reply: dict[str, Any], warning: str = "",
                        triage: Triage | None = None) -> list[TimelineEntry]:
    """Level 0 / not an incident (つくば 4(2)②(III)). Appends:

    - "report": the report to the CSIRT管理者 (``reported_to``: a role id; see
      :func:`report_to_default`), data {to, result: "not_incident", type, level};
    - "call": the reply to the reporter, data {who, when (ISO), how, to, note,
      purpose: "triage_reply"}, ``reply`` = {who: who answered, when: datetime
      or typed time ("15:10", "さっき", ISO), how: by what means (電話, メール…),
      to?: default the reporter's name from the intake, note?}; occurred_at = when;
    - "note": the staff warning (注意喚起), only when ``warning`` is not empty;
    - "close": data {status: "not_incident"} (インシデントではない).

    The decision itself must be on the record already (:func:`record_triage`
    with a not-an-incident triage), or be passed as ``triage``: then it is
    recorded first, in the same go. Everything is checked before anything is
    written. The incident stays in the index with status not_incident (searchable)."""
    profile = store.profile
    if not isinstance(reply, dict):
        raise DomainError("reply: {who, when, how} で指定してください")
    unknown = sorted(set(reply) - set(_REPLY_KEYS))
    if unknown:
        raise DomainError(f"reply: 不明な項目: {', '.join(unknown)}")
    try:
        party = profile.party(reported_to)
    except KeyError:
        raise DomainError(f"報告先が不明です: {reported_to!r}（{', '.join(_ids(profile.roles))}）") from None
    who = reply.get("who").strip() if isinstance(reply.get("who"), str) else ""
    how = reply.get("how").strip() if isinstance(reply.get("how"), str) else ""
    if not who:
        raise DomainError("通報者へ回答した人（だれが）を入力してください")
    if not how:
        raise DomainError("通報者への回答の方法（電話・メール等）を入力してください")
    when = _reply_time(reply.get("when"), store.now())
    note = reply.get("note").strip() if isinstance(reply.get("note"), str) else ""
    if triage is not None:
        a = assess(profile, triage)
        if a.problems:
            raise TriageError(a.problems)
        if a.is_incident is not False or a.excluded:
            raise DomainError("インシデントではないと判断したトリアージではありません"
                              + ("（対象外は exclusion_close で記録します）" if a.excluded else ""))
    out: list[TimelineEntry] = []
    with store.locked():
        inc = store.incident(incident_id)
        if triage is not None:
            latest = _latest_classification(inc)
            if latest is not None and latest.get("not_incident") and _closed_after(inc, latest["seq"]):
                raise DomainError(f"インシデント {incident_id} は既に収束しています")
            out.extend(record_triage(store, incident_id, triage, operator=operator))
            inc = store.incident(incident_id)
        latest = _latest_classification(inc)
        if latest is None or not latest.get("not_incident"):
            raise DomainError("インシデントではないと判断したトリアージがありません（先にトリアージを記録してください）")
        if _closed_after(inc, latest["seq"]):
            raise DomainError(f"インシデント {incident_id} は既に収束しています")
        to = reply.get("to") or (inc.intake.get("reporter") or {}).get("name") or "通報者"
        out.append(store.append(
            incident_id, "report",
            f"{party['label']}への報告: トリアージの結果、インシデントの発生は無いと判断した（CSIRT で取り扱わない）",
            operator=operator,
            data={"to": reported_to, "result": "not_incident", "type": latest.get("type"),
                  "level": latest.get("level")}))
        from .timeparse import format_preview, from_iso

        text = f"通報者（{to}）への回答: {who}が{format_preview(from_iso(when))}に{how}でトリアージの結果を連絡"
        if note:
            text += f"\n{note}"
        out.append(store.append(
            incident_id, "call", text, operator=operator, occurred_at=when,
            data={"who": who, "to": to, "when": when, "how": how, "note": note, "purpose": "triage_reply"}))
        if warning and warning.strip():
            out.append(store.append(incident_id, "note", f"職員への注意喚起: {warning.strip()}",
                                    operator=operator, data={"warning": warning.strip()}))
        out.append(store.append(incident_id, "close", "インシデントではない（CSIRT で取り扱わない）として収束",
                                operator=operator, data={"status": "not_incident"}))
    return out


def exclusion_close(store, incident_id: str, triage: Triage, *, operator: str) -> list[TimelineEntry]:
    """対象外 (planned maintenance stop, paper-only loss …): records the triage
    (not_incident, with the exclusion) and closes the incident with data
    {status: "not_incident", exclusion: id} — shown as インシデントではない."""
    if not triage.exclusion:
        raise TriageError(["対象外の事由を選んでください"])
    profile = store.profile
    with store.locked():
        out = record_triage(store, incident_id, triage, operator=operator)
        itype = profile.incident_type(triage.type_id)
        ex = next(e for e in itype["exclusions"] if e["id"] == triage.exclusion)
        text = f"対象外（{ex['label']}）として収束: {ex['text']}"
        if ex.get("source"):
            text += f"（{ex['source']}）"
        out.append(store.append(incident_id, "close", text, operator=operator,
                                data={"status": "not_incident", "exclusion": triage.exclusion}))
    return out
