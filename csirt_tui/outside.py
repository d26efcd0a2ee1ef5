"""Giving material outside with permission (水戸 3(2)ケ(イ)「機密性2以上の情報資産を外部に提供する者は、
情報セキュリティ管理者に許可を得なければならない。」).

A profile's ``outside_permission`` ({role, threshold, text, source}) says whose permission
is needed and from which confidentiality class. When an incident's class (the one chosen at
triage, else the report form's default: csirt_tui.report.content.classification_of) is at
or above the threshold, a report that leaves (a 報告様式1 export given to an outside body, a
notification of an outside body marked 連絡済み) needs the name of who permitted it. The
permission is a "decision" entry on the record:

    {decision: "outside_permission", permitted_by, role, recipient, what, classification, source}

and it shows in 報告様式1 section 7 (対外的な対応).

Core module: no textual here.
"""

from __future__ import annotations

from typing import Any

from .errors import DomainError

__all__ = ["OutsideError", "rule", "needed", "record_permission", "permissions", "permission_lines"]


class OutsideError(DomainError):
    pass


def rule(profile) -> dict[str, Any] | None:
    return profile.data.get("outside_permission")


def role_label(profile) -> str:
    r = rule(profile)
    if not r:
        return ""
    try:
        return profile.role(r["role"])["label"]
    except KeyError:  # pragma: no cover - the schema checks the reference
        return r["role"]


def needed(profile, incident) -> bool:
    """Does giving this incident's material outside need a permission (class >= threshold)?"""
    from .report.content import classification_of, confidentiality_classes

    r = rule(profile)
    if not r:
        return False
    mark, _ = classification_of(profile, incident)
    labels = [c["label"] for c in confidentiality_classes(profile)]  # highest first
    if mark not in labels or r["threshold"] not in labels:
        return True  # an unknown mark: be careful
    return labels.index(mark) <= labels.index(r["threshold"])


def problem(profile, incident, permitted_by: Any) -> str | None:
    """The refusal when a permission is needed and ``permitted_by`` is blank, else None."""
    if not needed(profile, incident):
        return None
    if isinstance(permitted_by, str) and permitted_by.strip():
        return None
    r = rule(profile)
    from .report.content import classification_of

    mark, _ = classification_of(profile, incident)
    return (f"{mark}の情報を外部に提供するには{role_label(profile)}の許可が要ります: 許可した者を入力してください"
            f"（{r['source']}）")


def record_permission(store, incident_id: str, *, operator: str, permitted_by: str, recipient: str,
                      what: str) -> Any:
    """Put the permission on the record ("decision" entry, see the module text). ``permitted_by``,
    ``recipient`` (the outside body) and ``what`` (the report, the bundle …) are kept as typed."""
    from .report.content import classification_of

    problems = []
    for name, value in (("permitted_by", permitted_by), ("recipient", recipient), ("what", what)):
        if not isinstance(value, str) or not value.strip():
            problems.append({"permitted_by": "許可した者", "recipient": "提供先", "what": "提供するもの"}[name]
                            + "を入力してください")
    if problems:
        raise OutsideError("外部への提供の許可を記録できません: " + " / ".join(problems))
    profile = store.profile
    r = rule(profile) or {}
    with store.locked():
        inc = store.incident(incident_id)
        mark, _ = classification_of(profile, inc)
        who = role_label(profile) or "許可した者"
        text = f"外部への提供の許可: {who} {permitted_by}\n提供先: {recipient}\n提供するもの: {what}（{mark}）"
        if r:
            text += f"\n{r['source']}"
        return store.append(incident_id, "decision", text, operator=operator, data={
            "decision": "outside_permission", "permitted_by": permitted_by, "role": r.get("role"),
            "recipient": recipient, "what": what, "classification": mark, "source": r.get("source", "")})


def permissions(incident) -> list[dict[str, Any]]:
    """The permissions on the record, oldest first (entry data + seq, at, operator)."""
    return [{**(e.data or {}), "seq": e.seq, "at": e.when, "operator": e.operator} for e in incident.entries
            if e.kind == "decision" and (e.data or {}).get("decision") == "outside_permission"]


def permission_lines(profile, incident) -> list[str]:
    """報告様式1 section 7: one line per permission given."""
    from .report.content import record_time

    who = role_label(profile) or "許可した者"
    return [f"外部への提供の許可: {p.get('recipient', '')}へ {p.get('what', '')}（{p.get('classification', '')}）、"
            f"{who} {p.get('permitted_by', '')} が許可（{record_time(p.get('at'))}"
            + (f"、{p['source']}" if p.get("source") else "") + "）" for p in permissions(incident)]
