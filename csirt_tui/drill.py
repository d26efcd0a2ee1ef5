"""訓練・演習 (drills): scenarios shipped per profile, drill incidents, their review (講評).

Sources: むつ 要綱 2条(2)イ「インシデントの発生を想定した訓練及び演習の定期的な実施」; つくば 5(2);
水戸 6-2(3)「緊急時対応を想定した訓練を定期的に行う」 (大崎 has no such clause: its scenario
follows 5条). Core only: no textual here (the screens, the CLI and the PDF use it).

A drill is an incident marked as one:

- at intake: the 受付 entry's data holds ``drill: true`` and, when started from a scenario,
  ``drill_scenario`` (its id) and ``drill_title`` (:func:`start_drill`, ``intake --drill``);
- later: a "decision" entry {decision: "drill", drill: true | false, note, scenario?}
  (:func:`csirt_tui.response.mark_drill`); the mark is taken back only by a new such entry.

The latest of these wins (``Incident.drill``). A drill is shown 【訓練】 everywhere and counted
apart from real incidents (csirt_tui.report.summary).

Scenario files: ``data/drills/<profile id>.toml``::

    schema = 1
    profile = "mutsu"
    [[scenario]]
    id, title, source, purpose
    [scenario.caller]            what the caller says (``says``, read out by the trainer) and the
                                 four PoC items as they should be taken down: channel,
                                 reporter_type, found_at, place, what, reporter {name, section,
                                 contact}, extras {the profile's poc.extra_items}
    [scenario.expected]          fact_check, type, type_note, level, level_note,
                                 notify = [role / outside body ids], notify_note
    [[scenario.expected.steps]]  step (a step id of the profile), expect (what is to be done)

Every id is checked against the profile (:func:`check_scenario`): a scenario names only what
the organisation's own procedures hold.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import DomainError
from .model import INTAKE_ITEMS, STEP_STATUSES, Incident, missing_items
from .resources import data_dir

DRILL_MARK = "【訓練】"
# Said wherever the desk prompts a call to someone outside the organisation during a drill.
OUTSIDE_KINDS = frozenset({"national", "prefecture", "police", "agency", "municipal", "committee", "expert",
                           "press", "public"})


class DrillError(DomainError):
    pass


@dataclass(frozen=True)
class ExpectedStep:
    step: str
    expect: str


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    source: str
    purpose: str
    says: str                       # what the caller says, in their own words
    caller: dict[str, Any]          # the intake as it should be taken down (build_intake's raw form)
    fact_check: str
    type: str
    type_note: str
    level: int | None
    level_note: str
    notify: tuple[str, ...]
    notify_note: str
    steps: tuple[ExpectedStep, ...] = field(default_factory=tuple)


def drills_dir() -> Path:
    return data_dir() / "drills"


def scenario_file(profile) -> Path:
    return drills_dir() / f"{profile.id}.toml"


def _str(doc: dict, key: str, where: str, *, required: bool = True) -> str:
    value = doc.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise DrillError(f"{where}.{key}: 文字列で指定してください")
    return value


def _parse(doc: dict, where: str) -> Scenario:
    caller = doc.get("caller")
    expected = doc.get("expected")
    if not isinstance(caller, dict) or not isinstance(expected, dict):
        raise DrillError(f"{where}: caller と expected が必要です")
    raw = {k: v for k, v in caller.items() if k != "says"}
    steps = []
    for i, s in enumerate(expected.get("steps") or []):
        if not isinstance(s, dict):
            raise DrillError(f"{where}.expected.steps[{i}]: 表で指定してください")
        steps.append(ExpectedStep(_str(s, "step", f"{where}.expected.steps[{i}]"),
                                  _str(s, "expect", f"{where}.expected.steps[{i}]")))
    level = expected.get("level")
    if level is not None and (not isinstance(level, int) or isinstance(level, bool)):
        raise DrillError(f"{where}.expected.level: 整数で指定してください")
    notify = expected.get("notify") or []
    if not isinstance(notify, list) or not all(isinstance(n, str) for n in notify):
        raise DrillError(f"{where}.expected.notify: 文字列の配列で指定してください")
    return Scenario(
        id=_str(doc, "id", where), title=_str(doc, "title", where), source=_str(doc, "source", where),
        purpose=_str(doc, "purpose", where), says=_str(caller, "says", f"{where}.caller"), caller=raw,
        fact_check=_str(expected, "fact_check", f"{where}.expected", required=False),
        type=_str(expected, "type", f"{where}.expected"),
        type_note=_str(expected, "type_note", f"{where}.expected", required=False),
        level=level, level_note=_str(expected, "level_note", f"{where}.expected", required=False),
        notify=tuple(notify), notify_note=_str(expected, "notify_note", f"{where}.expected", required=False),
        steps=tuple(steps))


def check_scenario(profile, sc: Scenario) -> list[str]:
    """What in ``sc`` the profile does not hold (an unknown type, level, step, party, channel,
    report source, intake item); empty when it is sound."""
    from .intake import build_intake

    problems = []
    where = sc.id
    try:
        profile.incident_type(sc.type)
    except KeyError:
        problems.append(f"{where}: 種別 {sc.type!r} がプロファイルにありません")
    else:
        table = profile.level_table_for(sc.type)
        levels = [lv.get("level") for lv in (table or {}).get("levels", [])]
        if sc.level is not None and levels and sc.level not in levels:
            problems.append(f"{where}: レベル {sc.level} は種別 {sc.type} の判断基準にありません")
    steps = {s["id"] for ph in profile.phases_for(sc.type) for s in ph["steps"]}
    for s in sc.steps:
        if s.step not in steps:
            problems.append(f"{where}: 手順 {s.step!r} は種別 {sc.type} の手順にありません")
    parties = {r["id"] for r in profile.roles} | {b["id"] for b in profile.outside_bodies}
    for p in sc.notify:
        if p not in parties:
            problems.append(f"{where}: 連絡先 {p!r} はプロファイルの役割・関係機関にありません")
    try:
        build_intake(profile, sc.caller, datetime.now(profile.timezone), strict=False)
    except DomainError as err:
        problems.append(f"{where}: caller: {err}")
    extras = {i["key"] for i in profile.poc.get("extra_items", [])}
    unknown = set((sc.caller.get("extras") or {})) - extras
    if unknown:
        problems.append(f"{where}: caller.extras: 不明な項目 {', '.join(sorted(unknown))}")
    return problems


def load_scenarios(profile, path: Path | None = None) -> list[Scenario]:
    """The profile's drill scenarios (``data/drills/<id>.toml``), checked against it. A profile
    without a file has none; a file that is not sound is refused, naming what is wrong."""
    path = path or scenario_file(profile)
    if not path.exists():
        return []
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise DrillError(f"訓練シナリオを読めません: {path.name}: {err}") from None
    if doc.get("profile") != profile.id:
        raise DrillError(f"{path.name}: profile = {doc.get('profile')!r} はこのプロファイル ({profile.id}) ではありません")
    out = []
    for i, raw in enumerate(doc.get("scenario") or []):
        if not isinstance(raw, dict):
            raise DrillError(f"{path.name}: scenario[{i}] は表で指定してください")
        sc = _parse(raw, f"{path.name}: scenario[{i}]")
        problems = check_scenario(profile, sc)
        if problems:
            raise DrillError(f"{path.name}: " + "; ".join(problems))
        out.append(sc)
    ids = [s.id for s in out]
    if len(set(ids)) != len(ids):
        raise DrillError(f"{path.name}: シナリオの id が重複しています")
    return out


def find_scenario(profile, scenario_id: str) -> Scenario:
    for sc in load_scenarios(profile):
        if sc.id == scenario_id:
            return sc
    names = ", ".join(s.id for s in load_scenarios(profile)) or "なし"
    raise DrillError(f"訓練シナリオ {scenario_id!r} はありません（{profile.name}: {names}）")


def caller_intake(sc: Scenario) -> dict[str, Any]:
    """The intake as the scenario's caller gives it (build_intake's raw form)."""
    raw = {k: v for k, v in sc.caller.items()}
    raw["reporter"] = dict(raw.get("reporter") or {})
    return raw


def drill_fields(sc: Scenario | None) -> dict[str, Any]:
    """What a drill's 受付 entry holds besides the intake items."""
    out: dict[str, Any] = {"drill": True}
    if sc is not None:
        out["drill_scenario"] = sc.id
        out["drill_title"] = sc.title
    return out


def start_drill(store, raw: dict[str, Any], *, operator: str, scenario: Scenario | None = None,
                strict: bool = False, typed_at=None) -> Incident:
    """A new incident marked as a drill from its first entry (the 受付): ``raw`` is the intake as
    typed (the operator's, or :func:`caller_intake` for a scripted run). One entry: a crash
    cannot leave a drill counted as a real incident."""
    from .intake import build_intake
    from .views import intake_entry_text

    profile = store.profile
    intake = build_intake(profile, {k: v for k, v in raw.items() if k not in ("drill", "drill_scenario")},
                          store.now(), strict=strict, typed_at=typed_at)
    intake.update(drill_fields(scenario))
    head = DRILL_MARK + (f"訓練シナリオ「{scenario.title}」({scenario.id})\n" if scenario else "訓練\n")
    return store.create_incident(intake, operator=operator, text=head + intake_entry_text(profile, intake))


def is_drill(entries) -> bool | None:
    """Whether the record ``entries`` (an incident's, in order) makes a drill; None when they do
    not start at the 受付 and hold no mark (a tail of the record: not known from it)."""
    state = None
    for e in entries:
        d = e.data or {}
        if e.kind == "intake":
            state = bool(d.get("drill"))
        elif e.kind == "decision" and d.get("decision") == "drill":
            state = bool(d.get("drill"))
    return state


def scenario_of(incident: Incident) -> str | None:
    """The id of the scenario a drill was started from (None: marked by hand, or not a drill)."""
    sid = incident.intake.get("drill_scenario")
    for e in incident.entries:
        d = e.data or {}
        if e.kind == "decision" and d.get("decision") == "drill" and d.get("scenario"):
            sid = d["scenario"]
    return sid if isinstance(sid, str) else None


def outside_warning(profile, party_id: str | None) -> str:
    """During a drill, what the desk says beside a prompt to tell ``party_id``: an outside body
    (総務省, 県, police, J-LIS …) must not be called for real. '' for the organisation's own roles."""
    body = next((b for b in profile.outside_bodies if b["id"] == party_id), None)
    if body is None:
        return DRILL_MARK + "訓練です。連絡は訓練として行ってください"
    return (f"{DRILL_MARK}訓練です。{body['label']}には実際に連絡しないでください"
            "（連絡したことにして記録する）")


def mark_text(incident: Incident | None) -> str:
    return DRILL_MARK if incident is not None and incident.drill else ""


# ---------------------------------------------------------------------------
# The review (講評): what the scenario expected against what was recorded, and the times


@dataclass
class ReviewRow:
    item: str
    expected: str
    recorded: str
    verdict: str          # 一致 / 相違 / 実施 / 未実施 / 記録なし / シナリオ外 / 参考
    note: str = ""


@dataclass
class TimeRow:
    label: str
    start: str | None
    end: str | None
    minutes: int | None


@dataclass
class DrillReview:
    incident_id: str
    scenario: Scenario | None
    scenario_id: str | None
    status: str
    received_at: str | None
    intake: list[ReviewRow]
    classification: list[ReviewRow]
    steps: list[ReviewRow]
    notifications: list[ReviewRow]
    times: list[TimeRow]
    summary: list[str]     # a few sentences: how many matched, what is missing

    @property
    def all_rows(self) -> list[ReviewRow]:
        return self.intake + self.classification + self.steps + self.notifications


def duration_text(minutes: int | None) -> str:
    """25分, 2時間20分, 1日3時間 (the whole span, not the dashboard's short 経過); 記録なし for None."""
    if minutes is None:
        return "記録なし"
    from .views import span_text

    return span_text(minutes)


def _minutes(a: str | None, b: str | None) -> int | None:
    if not a or not b:
        return None
    try:
        return int((datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() // 60)
    except ValueError:
        return None


def _first_response_at(profile, inc: Incident) -> str | None:
    """The first step of a first-response phase recorded as 対応中 or 完了 (its event time)."""
    phases = {ph["id"] for ph in profile.phases if ph.get("report") == "first_response"}
    steps = {s["id"] for ph in profile.phases if ph["id"] in phases for s in ph["steps"]}
    for e in inc.entries:
        d = e.data or {}
        if e.kind == "step" and d.get("step") in steps and d.get("status") in ("doing", "done"):
            return e.when
    return None


def _triaged_at(inc: Incident) -> str | None:
    for e in inc.entries:
        if e.kind in ("classification", "triage") and "type" in (e.data or {}):
            return e.when
    return None


def _closed_at(inc: Incident) -> str | None:
    at = None
    for e in inc.entries:
        if e.kind == "close":
            at = e.when
        elif e.kind == "reopen":
            at = None
    return at


def _label(items, ident) -> str:
    return next((i.get("label", ident) for i in items if i.get("id") == ident), ident or "")


def review(profile, inc: Incident, scenario: Scenario | None = None) -> DrillReview:
    """The 講評 of drill ``inc``: each expectation of ``scenario`` (by default the one it was
    started from) beside what the record holds, and the times from receipt. A drill marked by
    hand has no scenario: the record and the times only."""
    from .response import notification_state, step_states
    from .views import ITEM_SHORT

    if not inc.drill:
        raise DrillError(f"インシデント {inc.id} は訓練として記録されていません（講評は訓練のみ）")
    sid = scenario_of(inc)
    if scenario is None and sid:
        try:
            scenario = find_scenario(profile, sid)
        except DrillError:
            scenario = None
    it = inc.intake
    items = {i["key"]: i["label"] for i in profile.poc.get("items", [])}
    missing = set(missing_items(it))
    intake_rows = []
    for key in INTAKE_ITEMS:
        if key == "reporter":
            rep = it.get("reporter") or {}
            recorded = " / ".join(v for v in (rep.get("name"), rep.get("section"), rep.get("contact")) if v)
            want = scenario.caller.get("reporter") if scenario else None
            expected = " / ".join(v for v in ((want or {}).get(k) for k in ("name", "section", "contact")) if v)
        else:
            recorded = it.get("found_at_text" if key == "found_at" else key) or ""
            expected = str(scenario.caller.get(key) or "") if scenario else ""
        intake_rows.append(ReviewRow(items.get(key, ITEM_SHORT.get(key, key)), expected or "-", recorded or "（未記入）",
                                     "記録なし" if key in missing else "記録あり"))
    if scenario and scenario.caller.get("reporter_type"):
        want = scenario.caller["reporter_type"]
        got = it.get("reporter_type")
        intake_rows.append(ReviewRow("通報の種類", _label(profile.report_sources, want),
                                     _label(profile.report_sources, got) if got else "（未選択）",
                                     "一致" if got == want else "相違"))
    for extra in profile.poc.get("extra_items", []):
        want = (scenario.caller.get("extras") or {}).get(extra["key"], "") if scenario else ""
        got = (it.get("extras") or {}).get(extra["key"], "")
        if want or got:
            intake_rows.append(ReviewRow(extra["label"], want or "-", got or "（未記入）",
                                         "記録あり" if (got or "").strip() else "記録なし"))

    class_rows = []
    type_label = lambda t: _label(profile.incident_types, t) if t else "（未分類）"  # noqa: E731
    if scenario:
        class_rows.append(ReviewRow("種別", type_label(scenario.type), type_label(inc.type_id),
                                    "一致" if inc.type_id == scenario.type else ("記録なし" if not inc.type_id else "相違"),
                                    scenario.type_note))
        if scenario.level is not None:
            class_rows.append(ReviewRow("レベル", f"レベル{scenario.level}",
                                        f"レベル{inc.level}" if inc.level is not None else "（未判定）",
                                        "一致" if inc.level == scenario.level else
                                        ("記録なし" if inc.level is None else "相違"), scenario.level_note))
    else:
        class_rows.append(ReviewRow("種別", "-", type_label(inc.type_id), "参考"))
        class_rows.append(ReviewRow("レベル", "-", f"レベル{inc.level}" if inc.level is not None else "（未判定）", "参考"))

    states = {row["step"]: row for row in step_states(profile, inc)}
    step_rows = []
    expected_steps = {s.step for s in scenario.steps} if scenario else set()
    for s in (scenario.steps if scenario else ()):
        row = states.get(s.step)
        label = row["label"] if row else next((st["label"] for ph in profile.phases for st in ph["steps"]
                                                if st["id"] == s.step), s.step)
        if row is None or row["seq"] is None:
            step_rows.append(ReviewRow(label, s.expect, "（記録なし）", "記録なし"))
            continue
        when = f"{row['at'][5:16].replace('T', ' ')} " if row.get("at") and row["status"] != "todo" else ""
        recorded = f"{row['status_label']} {when}{row.get('note') or ''}".strip()
        verdict = {"done": "実施", "doing": "対応中", "na": "対象外とした"}.get(row["status"], "未実施")
        step_rows.append(ReviewRow(label, s.expect, recorded, verdict))
    for row in states.values():
        if row["step"] in expected_steps or row["seq"] is None or row["status"] == "todo":
            continue
        step_rows.append(ReviewRow(row["label"], "-", f"{STEP_STATUSES.get(row['status'], row['status'])} "
                                   f"{row.get('note') or ''}".strip(), "シナリオ外"))

    threads: dict[str, dict] = {}
    for row in notification_state(profile, inc):
        if row["purpose"] == "":
            threads.setdefault(row["party"], row)
    note_rows = []
    parties = {p["id"]: p["label"] for p in (*profile.roles, *profile.outside_bodies)}
    for p in (scenario.notify if scenario else ()):
        row = threads.get(p)
        if row is None:
            note_rows.append(ReviewRow(parties.get(p, p), "連絡する", "（記録なし）", "記録なし"))
            continue
        what = row["status_label"] + (f" {row['at'][5:16].replace('T', ' ')}" if row.get("at") and row["status"] != "todo"
                                      else "")
        extra = row.get("said") or row.get("why") or ""
        verdict = {"done": "実施", "na": "不要とした"}.get(row["status"], "未実施")
        note_rows.append(ReviewRow(row["label"], "連絡する", f"{what} {extra}".strip(), verdict))
    for party, row in threads.items():
        if scenario and party in scenario.notify:
            continue
        note_rows.append(ReviewRow(row["label"], "-" if scenario else "", row["status_label"],
                                   "シナリオ外" if scenario else "参考"))

    received = inc.received_at
    triaged, first, closed = _triaged_at(inc), _first_response_at(profile, inc), _closed_at(inc)
    times = [TimeRow("受付からトリアージまで", received, triaged, _minutes(received, triaged)),
             TimeRow("受付から初動対応の開始まで", received, first, _minutes(received, first)),
             TimeRow("受付から収束まで", received, closed, _minutes(received, closed))]

    summary = []
    if scenario:
        checked = [r for r in class_rows + step_rows + note_rows if r.verdict != "シナリオ外"]
        good = [r for r in checked if r.verdict in ("一致", "実施")]
        summary.append(f"シナリオの期待 {len(checked)} 項目のうち {len(good)} 項目が記録と一致・実施済みです。")
        gaps = [r.item for r in checked if r.verdict not in ("一致", "実施")]
        if gaps:
            summary.append("一致しない・未実施・記録なし: " + "、".join(gaps))
    else:
        summary.append("シナリオから始めていない訓練です（記録と時間のみ）。")
    if missing:
        summary.append("受付で未記入の確認項目: " + "・".join(ITEM_SHORT.get(m, m) for m in INTAKE_ITEMS if m in missing))
    if closed is None:
        summary.append("収束が記録されていません。")
    return DrillReview(incident_id=inc.id, scenario=scenario, scenario_id=sid, status=inc.status,
                       received_at=received, intake=intake_rows, classification=class_rows, steps=step_rows,
                       notifications=note_rows, times=times, summary=summary)


def review_text_lines(rv: DrillReview) -> list[str]:
    """The review as text (the CLI, the screen)."""
    head = f"{DRILL_MARK}訓練の講評  インシデント {rv.incident_id}"
    lines = [head]
    if rv.scenario:
        lines.append(f"シナリオ: {rv.scenario.title} ({rv.scenario.id})  出典: {rv.scenario.source}")
    elif rv.scenario_id:
        lines.append(f"シナリオ: {rv.scenario_id}（このプロファイルにはありません）")
    for title, rows in (("受付（確認項目）", rv.intake), ("トリアージ", rv.classification),
                        ("初動対応の手順", rv.steps), ("連絡・通知", rv.notifications)):
        lines.append("")
        lines.append(f"【{title}】")
        for r in rows:
            lines.append(f"  [{r.verdict}] {r.item}: 期待 {r.expected} / 記録 {r.recorded}")
    lines.append("")
    lines.append("【時間】")
    for t in rv.times:
        lines.append(f"  {t.label}: {duration_text(t.minutes)}")
    lines.append("")
    lines.extend(rv.summary)
    return lines


def scenario_text_lines(profile, sc: Scenario) -> list[str]:
    """A scenario as the trainer reads it: what the caller says, then what is expected at each step."""
    parties = {p["id"]: p["label"] for p in (*profile.roles, *profile.outside_bodies)}
    steps = {st["id"]: st["label"] for ph in profile.phases for st in ph["steps"]}
    type_label = _label(profile.incident_types, sc.type)
    lines = [f"{DRILL_MARK}{sc.title} ({sc.id})", f"根拠: {sc.source}", f"ねらい: {sc.purpose}", "",
             "【通報者が話す内容】", *sc.says.splitlines(), "",
             "【期待する対応】"]
    if sc.fact_check:
        lines.append(f"事実関係の確認: {sc.fact_check}")
    lines.append(f"種別: {type_label}" + (f"（{sc.type_note}）" if sc.type_note else ""))
    if sc.level is not None:
        lines.append(f"レベル: レベル{sc.level}" + (f"（{sc.level_note}）" if sc.level_note else ""))
    for s in sc.steps:
        lines.append(f"初動対応 {steps.get(s.step, s.step)}: {s.expect}")
    lines.append("連絡する相手: " + "、".join(parties.get(p, p) for p in sc.notify))
    if sc.notify_note:
        lines.append(sc.notify_note)
    return lines
