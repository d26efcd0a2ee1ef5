"""Organisation profiles: who the desk works for, and how that organisation handles an incident.

A profile is one TOML file in ``data/profiles/`` (see ``docs/profile-format.md``).
It holds the PoC card, the incident types and their level tables, the handling
phases, the roles, the outside bodies and the notification rules of one
organisation, quoted from that organisation's own rules.  A profile may share a
section with another profile (``shared_from``) instead of copying it.

    >>> p = load_profile("mutsu")
    >>> p.level_table_for("cyber")["source"]
    'デスクの既定（つくば 別表1(2)）'

Loading resolves the shared sections, then checks the merged data against the
declarative schema ``_SCHEMA`` below.  Any problem raises :class:`ProfileError`
whose text is one line::

    <file>: <key.path>: expected <what>, got <value or 'nothing'>

naming the file the offending key is in (for a shared section, the file it
came from).  Core module: no textual here, and nothing heavy at import time
(``tomllib``, ``zoneinfo`` and ``jpholiday`` are imported when first needed).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from csirt_tui.errors import DomainError
from csirt_tui.resources import profiles_dir

TYPE_CHECKING = False  # typing costs import time; type checkers treat this name as True
if TYPE_CHECKING:  # pragma: no cover
    from datetime import date, datetime
    from typing import Any
    from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_PROFILE_ID",
    "SCHEMA_VERSION",
    "SHAREABLE",
    "PRIORITY_LABELS",
    "COUNCIL_ITEM_IDS",
    "DEFAULT_NOTIFICATION_DUE_HOURS",
    "Profile",
    "ProfileError",
    "ProfileInfo",
    "list_profiles",
    "load_profile",
    "clear_cache",
]

DEFAULT_PROFILE_ID = "mutsu"
SCHEMA_VERSION = 1

# Sections a profile may take from another profile with ``shared_from``.
# Dotted names share one part of a table section.
SHAREABLE = (
    "poc",
    "poc.hours",
    "poc.items",
    "poc.extra_items",
    "channels",
    "report_sources",
    "incident_types",
    "level_tables",
    "fault_types",
    "context",
    "context.segments",
    "context.asset_classes",
    "context.personal_data",
    "context.handling_rules",
    "phases",
    "roles",
    "outside_bodies",
    "notification_rules",
    "report_form",
    "priority",
)

# The three priority labels, highest first (the dashboard sorts on them).
PRIORITY_LABELS = ("高", "中", "低")

# The items a security council (大崎 4条(6) 審議する項目 / 5条(6) 決定の項目) may decide,
# named by a step's ``council_items``; labels and fields: csirt_tui.response.COUNCIL_ITEMS.
COUNCIL_ITEM_IDS = ("system_stop", "contact", "support", "damage", "structure", "residents",
                    "interim", "verification", "resume")

# 報告様式1: what fills each section (report_form.sections[].fill) and which part of
# section 5/6/7 a phase's steps go to (phases[].report); see csirt_tui.report.form1.
REPORT_FILLS = ("situation", "service", "cause", "damage", "response", "measures", "external", "record")
REPORT_PHASE_PARTS = ("first_response", "recovery", "measures", "external", "closure")

# The sections whose text an operator reads: ``read_as`` rewords them, the name
# check (_check_names) reads them.  Keys whose strings are not such text (ids,
# references, citations, machine values) are in _NOT_TEXT.
TEXT_SECTIONS = ("poc", "channels", "report_sources", "incident_types", "level_tables", "fault_types",
                 "context", "phases", "roles", "outside_bodies", "notification_rules", "report_form", "priority",
                 "procedure_review", "threats", "outside_permission", "roster_change_notice", "triage_support",
                 "threat_release", "progress_report")
_NOT_TEXT = frozenset({
    "id", "source", "sources", "key", "kind", "fill", "report", "milestone", "level_table", "deputy_for",
    "step", "notice_step", "parties", "types", "council_items", "segment", "asset_class", "hours",
    "classification_default", "aliases", "mail", "phone", "extension", "contact", "evaluation_step", "role", "threshold", "roles", "level", "record_points", "progress_report",
})
# Role labels that are ordinary words, not names (むつ 別表第3「その他」), and the
# kinds of outside body whose labels are ordinary words (報道機関, 住民).
_GENERIC_NAMES = frozenset({"その他"})
_WORD_KINDS = frozenset({"press", "public"})

# The handling rules the desk cites, where a profile names none (its rules say nothing): the
# desk's, said to be the desk's (profiles' data: context.handling_rules). "send": sending material
# of 機密性2 and above (水戸 3(2)キ); "mixed": material of several classes takes the highest (水戸
# 3(2)オ(ウ)), the committee summary's mark; "roster": keeping the contacts current (つくば 5(1)①),
# the roster's review reminder.
DESK_RULES = {
    "send": {"label": "機密性2以上は暗号化して送る", "text": "", "source": "デスクの既定"},
    "mixed": {"label": "最も高い分類に従う", "text": "", "source": "デスクの既定"},
    # the roster's review reminder: keep the contacts current (つくば 5(1)①)
    "roster": {"label": "連絡先を最新の状態に保つ", "text": "", "source": "デスクの既定"},
}

# Hours a party may stay 未連絡 before the notification counts as overdue, when
# neither the rule (``due_hours``) nor the profile (``notification_due_hours``) says.
DEFAULT_NOTIFICATION_DUE_HOURS = 24


class _Nothing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "nothing"


_NOTHING: Any = _Nothing()


# ---------------------------------------------------------------------------
# Errors


def _show(value: Any) -> str:
    """A short one-line rendering of a value for an error message."""
    if value is _NOTHING:
        return "nothing"
    if isinstance(value, bool):  # as written in TOML
        return "true" if value else "false"
    if isinstance(value, dict):
        text = "a table {" + ", ".join(map(str, list(value)[:6])) + (", …}" if len(value) > 6 else "}")
    elif isinstance(value, list) and len(repr(value)) > 60:
        text = f"a list of {len(value)}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    if len(text) > 80:
        text = text[:77] + "..."
    return text


def _fmt_path(parts: tuple) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class ProfileError(DomainError):
    """A profile cannot be found, read or validated.  ``str(e)`` is one line.

    A :class:`~csirt_tui.errors.DomainError`, so the CLI reports it as one line on stderr.

    Attributes: ``file`` (Path or None), ``key`` (dotted key path, "" when the
    problem is the whole file), ``expected`` and ``got`` (strings, may be "").
    """

    def __init__(self, message: str, *, file: Path | None = None, key: str = "",
                 expected: str = "", got: str = "") -> None:
        message = " ".join(str(message).split())
        super().__init__(message)
        self.file = file
        self.key = key
        self.expected = expected
        self.got = got

    @classmethod
    def at(cls, file: Path, key: tuple | str, expected: str, got: Any = _NOTHING,
           *, prefix: str = "") -> ProfileError:
        key_s = key if isinstance(key, str) else _fmt_path(key)
        got_s = _show(got)
        lead = f"{key_s}: " if key_s else ""
        if prefix:
            lead += f"{prefix}; "
        return cls(f"{file}: {lead}expected {expected}, got {got_s}",
                   file=file, key=key_s, expected=expected, got=got_s)


# ---------------------------------------------------------------------------
# The declarative schema.  Each node checks one value; tables list their keys.


class _Ctx:
    """Validation state: where each part came from, ids seen, references to check."""

    def __init__(self, file: Path, origins: dict[tuple, Path]) -> None:
        self.file = file
        self.origins = origins
        self.ids: dict[str, dict[str, tuple]] = {}
        self.refs: list[tuple[tuple, str, tuple[str, ...], str]] = []

    def file_for(self, path: tuple) -> Path:
        best: tuple = ()
        for key in self.origins:
            if len(key) > len(best) and path[: len(key)] == key:
                best = key
        return self.origins.get(best, self.file)

    def fail(self, path: tuple, expected: str, got: Any = _NOTHING, *, prefix: str = ""):
        raise ProfileError.at(self.file_for(path), path, expected, got, prefix=prefix)


class _Node:
    what = "a value"

    def check(self, value: Any, path: tuple, ctx: _Ctx) -> None:  # pragma: no cover
        raise NotImplementedError


class _Str(_Node):
    def __init__(self, *, empty: bool = True, pattern: str | None = None,
                 what: str | None = None, contains: str | None = None) -> None:
        self.empty = empty
        self.pattern = pattern
        self.contains = contains
        self.what = what or ("a string" if empty else "a non-empty string")
        self._rx = None

    def check(self, value, path, ctx):
        if not isinstance(value, str):
            ctx.fail(path, self.what, value)
        if not self.empty and not value.strip():
            ctx.fail(path, self.what, value)
        if self.pattern is not None:
            if self._rx is None:
                import re

                self._rx = re.compile(self.pattern)
            if not self._rx.fullmatch(value):
                ctx.fail(path, self.what, value)
        if self.contains is not None and self.contains not in value:
            ctx.fail(path, self.what, value)


_ID_PATTERN = r"[a-z][a-z0-9_]*"
_ID_WHAT = "an id (lower-case letters, digits and '_', starting with a letter)"


class _Id(_Str):
    """An id; registered in one or more scopes, which must not hold it already."""

    def __init__(self, *scopes: str) -> None:
        super().__init__(pattern=_ID_PATTERN, what=_ID_WHAT)
        self.scopes = scopes

    def check(self, value, path, ctx):
        super().check(value, path, ctx)
        for scope in self.scopes:
            seen = ctx.ids.setdefault(scope, {})
            if value in seen:
                ctx.fail(path, f"a unique {scope} id (already used at {_fmt_path(seen[value])})", value)
        for scope in self.scopes:
            ctx.ids[scope][value] = path


class _Ref(_Str):
    """The id of something defined elsewhere in the profile (checked after the walk)."""

    def __init__(self, scope: str, what: str) -> None:
        super().__init__(empty=False, what=what)
        self.scope = scope

    def check(self, value, path, ctx):
        super().check(value, path, ctx)
        ctx.refs.append((path, value, (self.scope,), self.what))


class _Label(_Str):
    """A label that also registers itself so that other keys may refer to it."""

    def __init__(self, scope: str) -> None:
        super().__init__(empty=False)
        self.scope = scope

    def check(self, value, path, ctx):
        super().check(value, path, ctx)
        ctx.ids.setdefault(self.scope, {}).setdefault(value, path)


class _Int(_Node):
    def __init__(self, lo: int | None = None, hi: int | None = None, what: str | None = None) -> None:
        self.lo, self.hi = lo, hi
        if what is None:
            what = "an integer"
            if lo is not None and hi is not None:
                what = f"an integer from {lo} to {hi}"
            elif lo is not None:
                what = f"an integer >= {lo}"
        self.what = what

    def check(self, value, path, ctx):
        if isinstance(value, bool) or not isinstance(value, int):
            ctx.fail(path, self.what, value)
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            ctx.fail(path, self.what, value)


class _Const(_Node):
    def __init__(self, value: Any) -> None:
        self.value = value
        self.what = repr(value)

    def check(self, value, path, ctx):
        if type(value) is not type(self.value) or value != self.value:
            ctx.fail(path, self.what, value)


class _Bool(_Node):
    what = "true or false"

    def check(self, value, path, ctx):
        if not isinstance(value, bool):
            ctx.fail(path, self.what, value)


class _Enum(_Node):
    def __init__(self, *values: str) -> None:
        self.values = values
        self.what = "one of " + ", ".join(repr(v) for v in values)

    def check(self, value, path, ctx):
        if not isinstance(value, str) or value not in self.values:
            ctx.fail(path, self.what, value)


class _Number(_Node):
    """An integer or a decimal number greater than ``above``."""

    def __init__(self, above: float = 0) -> None:
        self.above = above
        self.what = f"a number greater than {above:g}"

    def check(self, value, path, ctx):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > self.above:
            ctx.fail(path, self.what, value)


class _LevelMap(_Node):
    """``{ "0" = "低", "1" = "中", "2" = "高" }``: a priority label for each level number."""

    what = 'a table of level = priority, such as { "0" = "低", "1" = "中", "2" = "高" }'

    def __init__(self, label: _Node) -> None:
        self.label = label

    def check(self, value, path, ctx):
        if not isinstance(value, dict) or not value:
            ctx.fail(path, self.what, value)
        for key, label in value.items():
            if not (isinstance(key, str) and key.isascii() and key.isdigit()):
                ctx.fail(path + (key,), 'a level number as a key (written "0", "1", …)', key)
            self.label.check(label, path + (key,), ctx)


class _TimeZone(_Str):
    def __init__(self) -> None:
        super().__init__(empty=False, what="an IANA time zone name such as 'Asia/Tokyo'")

    def check(self, value, path, ctx):
        super().check(value, path, ctx)
        try:
            _zone(value)
        except Exception:
            ctx.fail(path, self.what, value)


class _List(_Node):
    def __init__(self, item: _Node, *, min: int = 0, unique: bool = False, what: str | None = None) -> None:
        self.item = item
        self.min = min
        self.unique = unique
        self.what = what or ("a list" if min == 0 else f"a list of at least {min}")

    def check(self, value, path, ctx):
        if not isinstance(value, list) or len(value) < self.min:
            ctx.fail(path, self.what, value)
        seen: dict = {}
        for i, item in enumerate(value):
            self.item.check(item, path + (i,), ctx)
            if self.unique:
                if item in seen:
                    ctx.fail(path + (i,), f"a value not already in the list (it is at [{seen[item]}])", item)
                seen[item] = i


class _Field:
    __slots__ = ("node", "required", "default")

    def __init__(self, node: _Node, required: bool, default: Any) -> None:
        self.node, self.required, self.default = node, required, default


def _req(node: _Node) -> _Field:
    return _Field(node, True, _NOTHING)


def _opt(node: _Node, default: Any = _NOTHING) -> _Field:
    """An optional key; when ``default`` is given the loaded data always has the key."""
    return _Field(node, False, default)


class _Table(_Node):
    what = "a table"

    def __init__(self, fields: dict[str, _Field], *, checks: tuple = ()) -> None:
        self.fields = fields
        self.checks = checks

    def check(self, value, path, ctx):
        if not isinstance(value, dict):
            ctx.fail(path, self.what, value)
        for key in value:
            if key not in self.fields:
                ctx.fail(path + (key,), "one of: " + ", ".join(self.fields), value[key],
                         prefix="unexpected key")
        for key, field in self.fields.items():
            if key not in value:
                if field.required:
                    ctx.fail(path + (key,), field.node.what)
                if field.default is not _NOTHING:
                    value[key] = _fresh(field.default)
                continue
            field.node.check(value[key], path + (key,), ctx)
        for extra in self.checks:
            extra(value, path, ctx)


class _Map(_Node):
    """A table whose keys are ids chosen by the author (e.g. ``level_tables``)."""

    def __init__(self, key: _Id, value: _Node, *, min: int = 0) -> None:
        self.key = key
        self.value = value
        self.min = min
        self.what = "a table" if min == 0 else f"a table of at least {min}"

    def check(self, value, path, ctx):
        if not isinstance(value, dict) or len(value) < self.min:
            ctx.fail(path, self.what, value)
        for k, v in value.items():
            self.key.check(k, path + (k,), ctx)
            self.value.check(v, path + (k,), ctx)


def _fresh(default: Any) -> Any:
    if isinstance(default, (list, dict)):
        return type(default)(default)
    return default


# -- the few rules a table cannot say by its keys alone ----------------------


def _hhmm_minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _check_hours(table, path, ctx):
    if _hhmm_minutes(table["start"]) >= _hhmm_minutes(table["end"]):
        ctx.fail(path + ("end",), f"a time later than start {table['start']!r}", table["end"])


_ITEM_KEYS = ("found_at", "place", "what", "reporter")


def _check_poc(table, path, ctx):
    keys = [item.get("key") for item in table.get("items", ())]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            ctx.fail(path + ("items", i, "key"), "each of " + ", ".join(_ITEM_KEYS) + " once", key)
    for key in _ITEM_KEYS:
        if key not in keys:
            ctx.fail(path + ("items",), f"an item with key {key!r}", keys)
    for i, extra in enumerate(table.get("extra_items", ())):
        if extra.get("key") in _ITEM_KEYS:
            ctx.fail(path + ("extra_items", i, "key"), "a key not used by poc.items", extra.get("key"))


def _check_incident_type(table, path, ctx):
    if table.get("fault_checks"):
        ctx.refs.append((path + ("fault_checks",), "fault_types", ("@section",),
                         "a fault_types section (fault_checks = true needs one)"))


def _check_levels(table, path, ctx):
    seen: dict[int, int] = {}
    for i, level in enumerate(table["levels"]):
        n = level["level"]
        if n in seen:
            ctx.fail(path + ("levels", i, "level"), f"a level not already in the table (it is at levels[{seen[n]}])", n)
        seen[n] = i
        if n == 0 and level["incident"]:
            ctx.fail(path + ("levels", i, "incident"), "false for level 0 (level 0 is not an incident)", True)


def _check_level(table, path, ctx):
    if not table.get("examples") and not any(g.get("examples") for g in table.get("example_groups", ())):
        ctx.fail(path + ("examples",), "a non-empty list of examples (or example_groups)", table.get("examples", _NOTHING))


def _check_role(table, path, ctx):
    if table.get("deputy_for") == table.get("id"):
        ctx.fail(path + ("deputy_for",), "the id of another role", table.get("deputy_for"))


def _check_step(table, path, ctx):
    for i, rule in enumerate(table.get("warn_if_not_done", ())):
        if rule.get("step") == table.get("id"):
            ctx.fail(path + ("warn_if_not_done", i, "step"), "the id of another step", rule.get("step"))


def _check_resume(table, path, ctx):
    seen: dict[str, int] = {}
    for i, cond in enumerate(table["conditions"]):
        if cond["id"] in seen:
            ctx.fail(path + ("conditions", i, "id"),
                     f"a condition id not already in the list (it is at conditions[{seen[cond['id']]}])", cond["id"])
        seen[cond["id"]] = i


def _check_resume_condition(table, path, ctx):
    if table["kind"] == "step" and "step" not in table:
        ctx.fail(path + ("step",), 'the id of a step (kind = "step" needs one)')
    if table["kind"] != "step" and "step" in table:
        ctx.fail(path + ("step",), 'nothing (only kind = "step" names a step)', table["step"])


def _check_when(table, path, ctx):
    if not table:
        ctx.fail(path, "at least one condition (" + ", ".join(_WHEN_FIELDS) + ")", table)


def _check_raise_when(table, path, ctx):
    if not table:
        ctx.fail(path, "at least one condition (" + ", ".join(_RAISE_WHEN_FIELDS) + ")", table)


def _check_priority_levels(data, ctx):
    """Every level of every level table has a base priority (by_level for scale
    "level", by_threat for scale "threat"), and the maps name no other level."""
    priority = data["priority"]
    for scale, key in (("level", "by_level"), ("threat", "by_threat")):
        tables = {tid: t for tid, t in data["level_tables"].items() if t["scale"] == scale}
        levels: dict[str, str] = {}
        for tid, table in tables.items():
            for i, level in enumerate(table["levels"]):
                levels.setdefault(str(level["level"]), f"level_tables.{tid}.levels[{i}]")
        mapping = priority.get(key)
        if mapping is None:
            if tables:
                ctx.fail(("priority", key), f'a table of level = priority for the scale = "{scale}" table '
                         f"{next(iter(tables))}", _NOTHING)
            continue
        for level, where in levels.items():
            if level not in mapping:
                ctx.fail(("priority", key), f"a priority for level {level} ({where})", mapping)
        for level in mapping:
            if level not in levels:
                known = ", ".join(sorted(levels, key=int)) or f'none: no table has scale = "{scale}"'
                ctx.fail(("priority", key, level), f'a level of a scale = "{scale}" table ({known})', level)


# -- the schema itself ---------------------------------------------------------

_S = _Str(empty=False)  # required text
_S0 = _Str()  # text that may be "" (unknown contact data, no duties known, …)
_SOURCE = _Str(empty=False, what="a non-empty string citing the seed (e.g. 'つくば 別表1(1)')")
_HHMM = _Str(pattern=r"(?:[01][0-9]|2[0-3]):[0-5][0-9]", what="a time 'HH:MM'")
_EXAMPLES = _List(_S)

_CONTACT = _Table({
    "weekday": _req(_S0),
    "night_holiday": _req(_S0),
})

_ASSET_CLASS = _Table({
    "id": _req(_Id("asset_class")),
    "label": _req(_S),
    "criterion": _req(_S),
    "handling": _opt(_EXAMPLES, []),
})

_HANDLING_RULES = _List(_Table({
    "id": _req(_Id("handling_rule")),
    "label": _opt(_S),  # the rule in a few words, shown with its source (「機密性2以上は暗号化して送る」)
    "text": _opt(_S),  # the clause's own words; none for the desk's rule (source 「デスクの既定」): no clause to quote
    "source": _req(_SOURCE),
}))

_CONFIDENTIALITY_CLASS = _Table({
    "id": _req(_Id("asset_class")),
    "label": _req(_Label("confidentiality_label")),
    "criterion": _req(_S),
    "handling": _opt(_EXAMPLES, []),
})

_WHEN_FIELDS = {
    "always": _opt(_Bool()),
    "level_at_least": _opt(_Int(0)),
    "types": _opt(_List(_Ref("incident_type", "the id of an incident type"), min=1, unique=True)),
    "personal_data": _opt(_Bool()),
    "crime": _opt(_Bool()),
    "threat_level_at_least": _opt(_Int(0)),
    "long_stop": _opt(_Bool()),
}

_PRIORITY = _Enum(*PRIORITY_LABELS)

# Conditions of a priority raise: the triage context (csirt_tui.triage.TriageContext).
_RAISE_WHEN_FIELDS = {
    "personal_data": _opt(_Bool()),
    "encrypted": _opt(_Bool()),
    "segment": _opt(_List(_Ref("segment", "the id of a network segment in context.segments"), min=1, unique=True)),
    "asset_class": _opt(_List(_Ref("asset_class", "the id of an asset class in context.asset_classes"),
                              min=1, unique=True)),
    "outward_attack": _opt(_Bool()),
    "crime": _opt(_Bool()),
    "long_stop": _opt(_Bool()),
}

_SCHEMA = _Table({
    "schema": _req(_Const(SCHEMA_VERSION)),
    "id": _req(_Str(pattern=_ID_PATTERN, what=_ID_WHAT)),
    "name": _req(_S),
    "timezone": _opt(_TimeZone(), "Asia/Tokyo"),
    "default": _opt(_Bool(), False),
    "sources": _req(_List(_S, min=1)),
    "notification_due_hours": _opt(_Number(0), DEFAULT_NOTIFICATION_DUE_HOURS),
    # how long the organisation's systems keep their logs (水戸 7-1(6)ア): Profile.logs_secure_by
    "log_retention": _opt(_Table({
        "months": _req(_Int(1, 120)),
        "text": _req(_S),
        "source": _req(_SOURCE),
        "step": _req(_Ref("step", "the id of a step in phases")),
    })),
    # progress reports (つくば 4(2)④(I) 対応方針の変更及び対応状況の進捗等…適宜…報告する): who is told, again
    # each time the policy (a step with progress_report) or the level changes; csirt_tui.response
    "progress_report": _opt(_Table({
        "parties": _req(_List(_Ref("party", "the id of a role or an outside body"), min=1, unique=True)),
        "text": _req(_S),
        "source": _req(_SOURCE),
    })),
    # the short path of a low threat level (大崎 5条(5): 脅威度がレベル1 → 庁内で必要な報告を行い、緊急時対応を解除):
    # csirt_tui.response.release_low_threat
    "threat_release": _opt(_Table({
        "level": _req(_Int(0)),
        "step": _req(_Ref("step", "the id of a step in phases")),
        "text": _req(_S),
        "source": _req(_SOURCE),
    })),
    # asking a vendor or an expert for help already during triage (つくば 4(2)②(I)(II)): csirt_tui.response.request_support
    "triage_support": _opt(_Table({
        "parties": _req(_List(_Ref("party", "the id of a role or an outside body"), min=1, unique=True)),
        "reasons": _req(_List(_Table({
            "id": _req(_Id("support_reason")),
            "label": _req(_S),
            "text": _req(_S),
            "source": _req(_SOURCE),
        }), min=1)),
    })),
    # who must be told quickly when the roster's contacts change (大崎 3条(2)): csirt_tui.roster.change_notices
    "roster_change_notice": _opt(_Table({
        "parties": _req(_List(_Ref("party", "the id of a role or an outside body"), min=1, unique=True)),
        "roles": _opt(_List(_Ref("role", "the id of a role"), unique=True), []),  # [] = everyone on the roster
        "text": _req(_S),
        "source": _req(_SOURCE),
    })),
    # giving material of this class or above outside needs the permission of ``role`` (水戸 3(2)ケ(イ)):
    # csirt_tui.outside (the export dialog, a notification of an outside body, 報告様式1 section 7)
    "outside_permission": _opt(_Table({
        "role": _req(_Ref("role", "the id of a role")),
        "threshold": _req(_Ref("confidentiality_label",
                               "the label of a confidentiality class in context.asset_classes")),
        "text": _req(_S),
        "source": _req(_SOURCE),
    })),
    # the kinds of threat (むつ ポリシー「対象とする脅威」), offered where the cause of 報告様式1 section 3 is recorded
    "threats": _opt(_List(_Table({
        "id": _req(_Id("threat")),
        "label": _req(_S),
        "text": _req(_S),
        "source": _req(_SOURCE),
    })), []),
    # the periodic evaluation and review of the procedures (むつ 2条(2)ウ, つくば 5(3), 水戸 8-3(4)・10-3):
    # how often (months), the clause in its own words; csirt_tui.reviews
    "procedure_review": _opt(_Table({
        "months": _req(_Int(1, 120)),
        "text": _req(_S),
        "source": _req(_SOURCE),
        # the step whose note is an incident's own evaluation (つくば 4(2)⑤(II)), offered to a review
        "evaluation_step": _opt(_Ref("step", "the id of a step in phases")),
    })),
    # words that name this organisation in text (besides its roles, outside bodies and PoC); see _check_names
    "names": _opt(_List(_S, unique=True), []),
    # 読み替え: a wording of text taken from another organisation, read as this organisation's own
    "read_as": _opt(_List(_Table({
        "from": _req(_S),
        "to": _req(_S0),
        "sections": _req(_List(_Enum(*TEXT_SECTIONS), min=1, unique=True)),
        "reason": _req(_S),
    })), []),
    # checked (and flattened to dotted keys) before merging; see _shared_from()
    "shared_from": _opt(_Table({key: _opt(_Str(pattern=_ID_PATTERN, what=_ID_WHAT)) for key in SHAREABLE}), {}),
    "poc": _req(_Table({
        "source": _req(_SOURCE),
        "organisation": _req(_S),
        "section": _req(_S0),
        "address": _req(_S0),
        "hours_label": _req(_S0),
        "phone": _req(_S0),
        "extension": _req(_S0),
        "mail": _req(_S0),
        "hours": _req(_Table({
            "days": _req(_List(_Int(0, 6, "a weekday number 0 (Mon) to 6 (Sun)"), min=1, unique=True)),
            "start": _req(_HHMM),
            "end": _req(_HHMM),
            "closed_on_holidays": _req(_Bool()),
        }, checks=(_check_hours,))),
        "items": _req(_List(_Table({
            "key": _req(_Enum(*_ITEM_KEYS)),
            "label": _req(_S),
        }), min=4, what="a list of the 4 intake items")),
        "extra_items": _opt(_List(_Table({
            "key": _req(_Id("poc_item")),
            "label": _req(_S),
            "kind": _req(_Enum("time", "text", "multiline", "yesno")),
        })), []),
    }, checks=(_check_poc,))),
    "channels": _req(_List(_Table({
        "id": _req(_Id("channel")),
        "label": _req(_S),
        "source": _opt(_SOURCE),
    }), min=1)),
    "report_sources": _req(_List(_Table({
        "id": _req(_Id("report_source")),
        "label": _req(_S),
        "method": _req(_S),
        "callback": _req(_Bool()),
        "source": _req(_SOURCE),
    }), min=1)),
    "incident_types": _req(_List(_Table({
        "id": _req(_Id("incident_type")),
        "label": _req(_S),
        "definition": _req(_S),
        "source": _req(_SOURCE),
        "examples": _opt(_EXAMPLES, []),
        "level_table": _opt(_Ref("level_table", "the id of a table in level_tables")),
        "fault_checks": _opt(_Bool(), False),
        "exclusions": _opt(_List(_Table({
            "id": _req(_Id("exclusion")),
            "label": _req(_S),
            "text": _req(_S),
            "source": _opt(_SOURCE),
        })), []),
    }, checks=(_check_incident_type,)), min=1)),
    "level_tables": _req(_Map(_Id("level_table"), _Table({
        "title": _req(_S),
        "source": _req(_SOURCE),
        "scale": _req(_Enum("level", "threat")),
        "levels": _req(_List(_Table({
            "level": _req(_Int(0)),
            "label": _req(_S),
            "criterion": _req(_S),
            "incident": _req(_Bool()),
            "consequence": _opt(_S),
            "examples": _opt(_EXAMPLES, []),
            "example_groups": _opt(_List(_Table({
                "group": _req(_S),
                "examples": _req(_List(_S, min=1)),
            })), []),
        }, checks=(_check_level,)), min=1)),
    }, checks=(_check_levels,)))),
    "fault_types": _opt(_List(_Table({
        "id": _req(_Id("fault_type")),
        "label": _req(_S),
        "events": _req(_S),
        "checks": _req(_List(_S, min=1)),
        "source": _req(_SOURCE),
    })), []),
    "context": _req(_Table({
        "segments": _req(_List(_Table({
            "id": _req(_Id("segment")),
            "label": _req(_S),
            "definition": _req(_S),
            "source": _req(_SOURCE),
        }), min=1)),
        "asset_classes": _req(_Table({
            "source": _req(_SOURCE),
            "confidentiality": _req(_List(_CONFIDENTIALITY_CLASS, min=1)),
            "integrity": _req(_List(_ASSET_CLASS, min=1)),
            "availability": _req(_List(_ASSET_CLASS, min=1)),
            # kept where profiles before issue 16 put them; read only when context.handling_rules is absent
            "handling_rules": _opt(_HANDLING_RULES, []),
        })),
        # how material is sent, carried, given outside (水戸 3(2)キ～ケ). Each profile keeps its own (never
        # shared with the asset classes): an operator is told its own organisation's clause, or the desk's
        # rule where its rules say nothing (issue 16). Profile.send_rule reads the one with id "send".
        "handling_rules": _opt(_HANDLING_RULES),
        "personal_data": _req(_List(_Table({
            "id": _req(_Id("personal_data")),
            "label": _req(_S),
            "source": _opt(_SOURCE),
        }), min=1)),
    })),
    "phases": _req(_List(_Table({
        "id": _req(_Id("phase")),
        "label": _req(_S),
        "source": _req(_SOURCE),
        "types": _opt(_List(_Ref("incident_type", "the id of an incident type"), unique=True), []),
        "report": _opt(_Enum(*REPORT_PHASE_PARTS)),
        "steps": _req(_List(_Table({
            "id": _req(_Id("step")),
            "label": _req(_S),
            "text": _req(_S),
            "note_required": _req(_Bool()),
            "points": _opt(_EXAMPLES, []),
            "source": _opt(_SOURCE),
            # csirt_tui.response: order advice (warn, never block), security council, resuming operation
            "warn_if_not_done": _opt(_List(_Table({
                "step": _req(_Ref("step", "the id of a step in phases")),
                "message": _req(_S),
            })), []),
            "council_items": _opt(_List(_Enum(*COUNCIL_ITEM_IDS), min=1, unique=True), []),
            # each of ``points`` is answered on its own when the step is done (つくば 4(2)③(I)(ア))
            "record_points": _opt(_Bool(), False),
            # the branches of the step, one chosen when it is done (つくば 4(2)③(II)(ア) 修復可能 / 修復不可能)
            "choices": _opt(_List(_Table({
                "id": _req(_Id("step_choice")),
                "label": _req(_S),
                "text": _req(_S),
                "detail": _req(_S),   # what must be written for that branch (the interim measure …)
            }), min=2), []),
            # a recorded status of this step asks for a progress report (つくば 4(2)④(I)): csirt_tui.response
            "progress_report": _opt(_Bool(), False),
            # csirt_tui.report.summary: the step whose 対応中/完了 counts as the incident being contained
            "milestone": _opt(_Enum("containment")),
            "resume": _opt(_Table({
                "source": _req(_SOURCE),
                "parties": _req(_List(_Ref("party", "the id of a role or an outside body"), min=1, unique=True)),
                "notice_step": _opt(_Ref("step", "the id of a step in phases")),
                "conditions": _req(_List(_Table({
                    "id": _req(_Str(pattern=_ID_PATTERN, what=_ID_WHAT)),
                    "label": _req(_S),
                    "kind": _req(_Enum("step", "confirm", "approval")),
                    "step": _opt(_Ref("step", "the id of a step in phases")),
                    "text": _req(_S),
                }, checks=(_check_resume_condition,)), min=1)),
            }, checks=(_check_resume,))),
        }, checks=(_check_step,)), min=1)),
    }), min=1)),
    "roles": _req(_List(_Table({
        "id": _req(_Id("role", "party")),
        "label": _req(_S),
        "post": _req(_S0),
        "duties": _req(_S0),
        "deputy_for": _opt(_Ref("role", "the id of a role")),
        "duty": _req(_Bool()),
        "source": _req(_SOURCE),
        "aliases": _opt(_List(_S, unique=True), []),
        "contact": _opt(_CONTACT),
    }, checks=(_check_role,)), min=1)),
    "outside_bodies": _req(_List(_Table({
        "id": _req(_Id("outside_body", "party")),
        "label": _req(_S),
        "kind": _req(_Enum("national", "prefecture", "municipal", "agency", "police",
                           "expert", "press", "public", "committee", "other")),
        "note": _req(_S0),
        "source": _opt(_SOURCE),
        "aliases": _opt(_List(_S, unique=True), []),
        "contact": _opt(_CONTACT),
    }))),
    "notification_rules": _req(_List(_Table({
        "id": _req(_Id("rule")),
        "parties": _req(_List(_Ref("party", "the id of a role or an outside body"), min=1, unique=True)),
        "when": _req(_Table(_WHEN_FIELDS, checks=(_check_when,))),
        "reason": _req(_S),
        "due_hours": _opt(_Number(0)),
    }))),
    "report_form": _req(_Table({
        "source": _req(_SOURCE),
        "title": _req(_S),
        "addressee": _req(_S),
        "sender": _req(_S),
        "sender_note": _req(_S0),
        # the committee summary's addressee (csirt_tui.report.summary); default 情報セキュリティ委員会
        "summary_addressee": _opt(_S),
        "opening": _req(_Str(empty=False, contains="{summary}", what="a string with a {summary} placeholder")),
        "sections": _req(_List(_Table({
            "no": _req(_S),
            "label": _req(_S),
            "fill": _req(_Enum(*REPORT_FILLS)),
            "items": _opt(_EXAMPLES, []),
        }), min=1)),
        "classification_default": _req(_Ref("confidentiality_label", "the label of a confidentiality class in context.asset_classes")),
    })),
    "priority": _req(_Table({
        "source": _req(_SOURCE),
        "by_level": _opt(_LevelMap(_PRIORITY)),
        "by_threat": _opt(_LevelMap(_PRIORITY)),
        "unrated": _opt(_PRIORITY, "中"),
        "long_stop_hours": _req(_Number(0)),
        "raise": _opt(_List(_Table({
            "when": _req(_Table(_RAISE_WHEN_FIELDS, checks=(_check_raise_when,))),
            "reason": _req(_S),
        })), []),
    })),
})


def _validate(data: dict, file: Path, origins: dict[tuple, Path]) -> None:
    ctx = _Ctx(file, origins)
    _SCHEMA.check(data, (), ctx)
    if data["id"] != file.stem:
        ctx.fail(("id",), f"the file name without .toml ({file.stem!r})", data["id"])
    for path, value, scopes, what in ctx.refs:
        if scopes == ("@section",):
            if not data.get(value):
                ctx.fail(path, what, data.get(value, _NOTHING))
            continue
        if not any(value in ctx.ids.get(scope, ()) for scope in scopes):
            known = sorted(set().union(*(ctx.ids.get(s, {}) for s in scopes)))
            ctx.fail(path, f"{what} ({', '.join(known) or 'none defined'})", value)
    _check_priority_levels(data, ctx)


# -- 読み替え (read_as) and the name check -------------------------------------


def _text_slots(value: Any, path: tuple):
    """(container, key, path) of every string an operator reads inside ``value``."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if key in _NOT_TEXT:
                continue
            if isinstance(sub, str):
                yield value, key, path + (key,)
            else:
                yield from _text_slots(sub, path + (key,))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            if isinstance(sub, str):
                yield value, i, path + (i,)
            else:
                yield from _text_slots(sub, path + (i,))


def _apply_read_as(data: dict, ctx: _Ctx) -> None:
    """Replace each ``read_as`` wording by its reading in the sections it names
    (all rules at once, the longest wording first, so that a reading is never
    read again).  A rule whose wording occurs nowhere is an error: it is stale."""
    import re

    rules = data.get("read_as") or []
    hits = [0] * len(rules)
    for section in TEXT_SECTIONS:
        table: dict[str, int] = {}
        for i, rule in enumerate(rules):
            if section in rule["sections"]:
                if rule["from"] in table:
                    ctx.fail(("read_as", i, "from"), f"a wording not already read as at read_as[{table[rule['from']]}]"
                             f" for {section}", rule["from"])
                table[rule["from"]] = i
        if not table or section not in data:
            continue
        rx = re.compile("|".join(re.escape(w) for w in sorted(table, key=len, reverse=True)))

        def reading(m, table=table):
            i = table[m.group()]
            hits[i] += 1
            return rules[i]["to"]

        for container, key, _path in list(_text_slots(data[section], (section,))):
            container[key] = rx.sub(reading, container[key])
    for i, rule in enumerate(rules):
        if not hits[i]:
            ctx.fail(("read_as", i, "from"), "a wording that occurs in " + ", ".join(rule["sections"]), rule["from"])


def _norm_name(text: str) -> str:
    """NFKC without blanks: 「CSIRT 管理者」「CSIRT管理者」, （ and ( match."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", text).split())


def _name_forms(data: dict) -> set[str]:
    """The names a profile's own data defines: its name, PoC, ``names``, each role's
    label, aliases and post, each outside body's label and aliases.  A label
    「A（B）」 also gives A and B (最高情報セキュリティ責任者（CISO）: CISO)."""
    out: set[str] = set()

    def add(text: Any, split: bool = True, short: bool = False) -> None:
        if not isinstance(text, str):
            return
        norm = _norm_name(text)
        parts = [norm]
        if split and "(" in norm:
            base, _, rest = norm.partition("(")
            parts += [base, rest.partition(")")[0]]
        for part in parts:
            if short and (len(part) > 30 or "、" in part):
                continue  # a post that describes (「セキュリティベンダー、NISC、…のうち」) is not a name
            if len(part) >= 2 and part not in _GENERIC_NAMES:
                out.add(part)

    add(data.get("name"))
    poc = data.get("poc")
    if isinstance(poc, dict):
        add(poc.get("organisation"))
        add(poc.get("section"))
    for word in data.get("names") or ():
        add(word, split=False)
    for key in ("roles", "outside_bodies"):
        for item in data.get(key) or ():
            if not isinstance(item, dict) or item.get("kind") in _WORD_KINDS:
                continue
            add(item.get("label"))
            for alias in item.get("aliases") or ():
                add(alias, split=False)
            if key == "roles":
                add(item.get("post"), short=True)
    return out


# A citation of another organisation's rule, shown to this profile's operator as what it is: the
# desk's default (the profile's own rules say nothing), with the clause it was taken from after it.
DESK_DEFAULT = "デスクの既定"


def _org_forms(data: dict) -> set[str]:
    """The words that name the organisation itself (``name``, ``names``, ``poc.organisation``):
    the part of :func:`_name_forms` that a citation of its rules holds (「つくば 4(2)③」)."""
    out = set()
    poc = data.get("poc") if isinstance(data.get("poc"), dict) else {}
    for text in [data.get("name"), poc.get("organisation"), *(data.get("names") or ())]:
        if isinstance(text, str) and len(_norm_name(text)) >= 2:
            out.add(_norm_name(text))
    return out


def _source_slots(value: Any, path: tuple):
    """(container, key, path) of every ``source`` (a citation the operator reads) inside ``value``."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == "source" and isinstance(sub, str):
                yield value, key, path + (key,)
            elif isinstance(sub, (dict, list)):
                yield from _source_slots(sub, path + (key,))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _source_slots(sub, path + (i,))


def _cite_shared_as_desk_default(value: Any, foreign: set[str]) -> None:
    """Each ``source`` of a section shared from another profile that cites another organisation's
    rule (``foreign``: its names) is read 「デスクの既定（つくば 4(2)③(I)）」 here: the rule is not
    this organisation's own, it is what the desk uses where its own rules say nothing."""
    if not foreign:
        return
    import re

    rx = re.compile("|".join(re.escape(f) for f in sorted(foreign, key=len, reverse=True)))
    for container, key, _path in list(_source_slots(value, ())):
        text = container[key]
        if DESK_DEFAULT not in text and rx.search(_norm_name(text)):
            container[key] = f"{DESK_DEFAULT}（{text}）"


def _desk_default_before(text: str, at: int) -> bool:
    return DESK_DEFAULT in text[:at]


def name_findings(data: dict, others: dict[Path, dict]) -> list[tuple[tuple, str, Path]]:
    """(key path, name, file that defines it) for each name of another profile
    (``others``: {file: its data}) that the text of ``data`` uses and ``data`` does
    not define: a role, body or organisation the operator of this profile cannot
    find in it.  The longest name wins where names overlap (統括情報セキュリティ責任者
    is not read as 情報セキュリティ責任者)."""
    import re

    own = _name_forms(data)
    owner: dict[str, Path] = {}
    orgs: set[str] = set()
    for file, other in others.items():
        for form in _name_forms(other):
            if form not in own:
                owner.setdefault(form, file)
        orgs |= _org_forms(other) - own
    if not owner:
        return []
    rx = re.compile("|".join(re.escape(f) for f in sorted(own | set(owner), key=len, reverse=True)))
    found = []
    for section in TEXT_SECTIONS:
        slots = [*_text_slots(data.get(section), (section,)), *_source_slots(data.get(section), (section,))]
        for container, key, path in slots:
            text = _norm_name(container[key])
            for m in rx.finditer(text):
                if m.group() not in owner:
                    continue
                # another organisation's rule cited as the desk's default (「デスクの既定（つくば 4(2)③）」)
                if m.group() in orgs and _desk_default_before(text, m.start()):
                    continue
                found.append((path, m.group(), owner[m.group()]))
    return found


def _check_names(data: dict, ctx: _Ctx, deps: dict[Path, int]) -> None:
    others = {}
    for dep in deps:
        if Path(dep).resolve() != Path(ctx.file).resolve() and dep in _RAW:
            others[dep] = _RAW[dep][1]
    for path, name, file in name_findings(data, others)[:1]:
        ctx.fail(path, "only names this profile defines (its roles, outside bodies, PoC or names; "
                 f"text taken from another profile may be reworded with read_as): {name!r} is named in "
                 f"{file.name}", name)


# ---------------------------------------------------------------------------
# Reading files and resolving shared sections

_LOCK = threading.RLock()
_RAW: dict[Path, tuple[int, dict, str]] = {}  # path: (mtime, parsed TOML, SHA-256 of the bytes parsed)
_PROFILES: dict[Path, tuple[dict[Path, int], Profile]] = {}


def clear_cache() -> None:
    """Forget every parsed file and loaded profile (tests; the cache also checks mtimes)."""
    with _LOCK:
        _RAW.clear()
        _PROFILES.clear()


def _mtime(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _read(path: Path) -> dict:
    """The parsed TOML of one file, cached per (path, mtime)."""
    mtime = _mtime(path)
    hit = _RAW.get(path)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    import hashlib
    import tomllib

    try:
        with open(path, "rb") as fh:
            content = fh.read()
        raw = tomllib.loads(content.decode())
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: TOML syntax error: {exc}", file=path,
                           expected="TOML", got=str(exc)) from None
    except OSError as exc:
        raise ProfileError.at(path, "", "a readable profile file", exc.strerror or str(exc)) from None
    _RAW[path] = (mtime, raw, hashlib.sha256(content).hexdigest())
    return raw


def _available(directory: Path) -> list[str]:
    try:
        return sorted(p.stem for p in directory.glob("*.toml"))
    except OSError:
        return []


def _shared_from(raw: dict, path: Path) -> dict[str, str]:
    """``shared_from`` checked and flattened: {'context.asset_classes': 'mito', …}."""
    value = raw.get("shared_from", {})
    ctx = _Ctx(path, {(): path})
    if not isinstance(value, dict):
        ctx.fail(("shared_from",), "a table of section = profile id", value)
    flat: dict[str, str] = {}
    for key, target in value.items():
        if isinstance(target, dict) and key in SHAREABLE:
            for sub, sub_target in target.items():
                flat[f"{key}.{sub}"] = sub_target
        else:
            flat[key] = target
    for key, target in flat.items():
        if key not in SHAREABLE:
            ctx.fail(("shared_from", key), "one of: " + ", ".join(SHAREABLE), target, prefix="unexpected key")
        if not isinstance(target, str):
            ctx.fail(("shared_from", key), "a profile id", target)
        parent = key.rpartition(".")[0]
        if parent and parent in flat:
            ctx.fail(("shared_from", key), f"no entry inside the already shared section {parent!r}", target)
    available = _available(path.parent)
    for key, target in flat.items():
        if target not in available:
            ctx.fail(("shared_from", key),
                     f"the id of a profile in {path.parent} ({', '.join(available)})", target)
    return flat


def _dig(data: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(data, dict) or part not in data:
            return _NOTHING
        data = data[part]
    return data


def _put(data: dict, parts: list[str], value: Any) -> None:
    """Set data[a][b]… = value, making missing tables; a non-table in the way is
    left alone (validation then reports its type)."""
    for part in parts[:-1]:
        if part not in data:
            data[part] = {}
        data = data[part]
        if not isinstance(data, dict):
            return
    data[parts[-1]] = value


def _deepcopy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deepcopy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deepcopy(v) for v in value]
    return value


class _Resolver:
    """Follows ``shared_from`` section by section, so that two profiles may share
    different sections with each other; a section that leads back to itself is a cycle."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.deps: dict[Path, int] = {}

    def raw(self, pid: str) -> tuple[Path, dict, dict[str, str]]:
        path = self.directory / f"{pid}.toml"
        raw = _read(path)
        self.deps[path] = _mtime(path)
        return path, raw, _shared_from(raw, path)

    def get(self, pid: str, key: str, chain: list[tuple[str, str, Path]]):
        """(value, origins) of ``key`` in profile ``pid`` as resolved, or (_NOTHING, {})."""
        path, raw, shared = self.raw(pid)
        for share_key, target in shared.items():
            if key == share_key or key.startswith(share_key + "."):
                return self.follow(pid, path, share_key, target, key, chain)
        parts = key.split(".")
        value = _dig(raw, parts)
        if value is _NOTHING:
            return _NOTHING, {}
        value = _deepcopy(value)
        origins = {tuple(parts): path}
        for share_key, target in shared.items():
            if share_key.startswith(key + ".") and isinstance(value, dict):
                sub_value, sub_origins = self.follow(pid, path, share_key, target, share_key, chain)
                _put(value, share_key[len(key) + 1:].split("."), sub_value)
                origins.update(sub_origins)
        return value, origins

    def follow(self, pid, path, share_key, target, key, chain):
        link = (pid, share_key, path)
        for i, (p, k, _) in enumerate(chain):
            if p == pid and k == share_key:
                loop = " → ".join([q for q, _, _ in chain[i:]] + [pid])
                raise ProfileError.at(path, ("shared_from", share_key),
                                      f"a profile that does not lead back here (cycle {loop})", target)
        value, origins = self.get(target, key, chain + [link])
        if value is _NOTHING:
            raise ProfileError.at(path, ("shared_from", share_key),
                                  f"a profile that has {key!r}", target)
        return value, origins


def _build(path: Path) -> tuple[Profile, dict[Path, int]]:
    resolver = _Resolver(path.parent)
    raw = _read(path)
    resolver.deps[path] = _mtime(path)
    shared = _shared_from(raw, path)
    data = _deepcopy(raw)
    data["shared_from"] = dict(shared)
    origins: dict[tuple, Path] = {(): path}
    pid = path.stem
    for share_key, target in shared.items():
        parts = share_key.split(".")
        if _dig(raw, parts) is not _NOTHING:
            raise ProfileError.at(path, tuple(parts), f"either a local value or shared_from.{share_key}",
                                  "both")
        value, sub_origins = resolver.follow(pid, path, share_key, target, share_key, [])
        _put(data, parts, value)
        origins.update(sub_origins)
    own_orgs = _name_forms(raw)
    foreign = set().union(*(_org_forms(_RAW[dep][1]) for dep in resolver.deps if dep != path and dep in _RAW))
    for share_key in shared:
        _cite_shared_as_desk_default(_dig(data, share_key.split(".")), foreign - own_orgs)
    _validate(data, path, origins)
    ctx = _Ctx(path, origins)
    _apply_read_as(data, ctx)
    _check_names(data, ctx, resolver.deps)
    return Profile(path, data, origins), resolver.deps


# ---------------------------------------------------------------------------
# Public API


@dataclass(frozen=True)
class ProfileInfo:
    id: str
    name: str
    path: Path
    default: bool


def list_profiles(directory: Path | None = None) -> list[ProfileInfo]:
    """The profiles in ``directory`` (default: the shipped ones), default first, then by id.

    Only reads each file's ``name`` and ``default``; a broken file is still listed
    (with its file name as the name) so that choosing it shows the error.
    """
    directory = Path(directory) if directory is not None else profiles_dir()
    infos: list[ProfileInfo] = []
    with _LOCK:
        for stem in _available(directory):
            path = directory / f"{stem}.toml"
            try:
                raw = _read(path)
            except ProfileError:
                raw = {}
            name = raw.get("name") if isinstance(raw.get("name"), str) and raw.get("name") else stem
            infos.append(ProfileInfo(stem, name, path, raw.get("default") is True))
    if infos and not any(i.default for i in infos):
        infos = [ProfileInfo(i.id, i.name, i.path, i.id == DEFAULT_PROFILE_ID) for i in infos]
    infos.sort(key=lambda i: (not i.default, i.id))
    return infos


def _locate(ref: str | Path, directory: Path | None) -> Path:
    if isinstance(ref, Path) or str(ref).endswith(".toml") or os.sep in str(ref) or "/" in str(ref):
        path = Path(ref)
        if not path.is_file():
            raise ProfileError.at(path, "", "a profile file", _NOTHING)
        return path.resolve()
    directory = Path(directory) if directory is not None else profiles_dir()
    path = directory / f"{ref}.toml"
    if not path.is_file():
        names = ", ".join(i.id for i in list_profiles(directory)) or "none"
        raise ProfileError(f"unknown profile {ref!r} (available: {names})", file=None, key="",
                           expected="a profile id", got=repr(ref))
    return path.resolve()


def load_profile(ref: str | Path, directory: Path | None = None, *,
                 cache_dir: Path | None = None) -> Profile:
    """Load, resolve and validate a profile by id (in ``directory``, default the
    shipped profiles) or by the path of a ``.toml`` file.

    Shared sections are looked up next to the file.  The result is cached until
    the file, or any file it shares from, changes.  Do not modify the returned data.

    With ``cache_dir`` (the TUI passes a hidden folder of its store) the resolved,
    validated profile is also kept on disk between runs, keyed on the content
    (SHA-256) of every file it was resolved from and of this module, so that a
    start reads one small JSON file instead of parsing and validating the TOML
    files.  A changed file is never served from the cache; a cache that cannot
    be read or written is passed over (the profile is then built as without it).
    """
    path = _locate(ref, directory)
    with _LOCK:
        hit = _PROFILES.get(path)
        if hit is not None and all(_mtime(p) == m for p, m in hit[0].items()):
            return hit[1]
        cached = _disk_cache_get(Path(cache_dir), path) if cache_dir is not None else None
        if cached is not None:
            profile, deps = cached
        else:
            profile, deps = _build(path)
            if cache_dir is not None:
                _disk_cache_put(Path(cache_dir), profile, deps)
        _PROFILES[path] = (deps, profile)
        return profile


# -- the cache on disk --------------------------------------------------------

_CACHE_FORMAT = 1
_VALIDATOR: list[str] = []  # SHA-256 of this module's source, once computed


def _sha256(path: Path) -> str:
    import hashlib

    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _validator() -> str:
    """The validation rules' fingerprint: a cache written by other code is not used."""
    if not _VALIDATOR:
        _VALIDATOR.append(_sha256(Path(__file__)))
    return _VALIDATOR[0]


def _cache_file(cache_dir: Path, path: Path) -> Path:
    # one file per profile id: a profile file elsewhere (another installation) replaces it
    return cache_dir / f"profile-{path.stem}.json"


def _disk_cache_get(cache_dir: Path, path: Path) -> tuple[Profile, dict[Path, int]] | None:
    """The cached profile of ``path`` if every file it came from is unchanged, else None."""
    import json

    try:
        with open(_cache_file(cache_dir, path), "rb") as fh:
            doc = json.loads(fh.read())
        if (doc["format"] != _CACHE_FORMAT or doc["validator"] != _validator()
                or doc["path"] != str(path) or not doc["deps"]):
            return None
        deps: dict[Path, int] = {}
        for dep, digest in doc["deps"]:
            dep = Path(dep)
            mtime = _mtime(dep)  # before the read: a write in between shows as a change next time
            if _sha256(dep) != digest:
                return None
            deps[dep] = mtime
        if path not in deps:
            return None
        origins = {tuple(parts): Path(origin) for parts, origin in doc["origins"]}
        data = doc["data"]
        if not isinstance(data, dict):
            return None
    except Exception:  # missing, unreadable, truncated, another format: build instead
        return None
    return Profile(path, data, origins), deps


def _disk_cache_put(cache_dir: Path, profile: Profile, deps: dict[Path, int]) -> None:
    """Write the cache entry of a just-built profile; any failure is ignored."""
    import json

    try:
        digests = []
        for dep, mtime in deps.items():
            parsed = _RAW.get(dep)
            if parsed is None or parsed[0] != mtime:
                return  # changed while the profile was being built: do not vouch for it
            digests.append([str(dep), parsed[2]])  # the digest of the very bytes parsed
        doc = {
            "format": _CACHE_FORMAT,
            "validator": _validator(),
            "path": str(profile.path),
            "deps": digests,
            "origins": [[list(parts), str(origin)] for parts, origin in profile._origins.items()],
            "data": profile.data,
        }
        text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
        back = json.loads(text)
        if back["data"] != profile.data or [tuple(k) for k, _ in back["origins"]] != list(profile._origins):
            return  # something JSON cannot hold as it is (a date, a tuple …): no cache
        from .jsonfile import atomic_write, make_dirs

        make_dirs(cache_dir)  # 0700, like every folder of the store
        # the one binary-safe writer (0600, temp file removed on failure); a
        # cache needs no fsync: a lost entry is rebuilt at the next start
        atomic_write(_cache_file(cache_dir, profile.path), text.encode("utf-8"), durable=False)
    except Exception:  # a read-only or full disk must not stop the desk from starting
        return


def _zone(name: str) -> ZoneInfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _is_year_end(day: date) -> bool:
    """年末年始 (12/29–1/3): municipal offices are closed (行政機関の休日に関する法律と同じ扱い)."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_day_off(day: date) -> bool:
    """Saturday, Sunday, a Japanese public holiday or the year-end holidays (12/29–1/3)."""
    return day.weekday() >= 5 or _is_year_end(day) or _is_public_holiday(day)


def _is_public_holiday(day: date) -> bool:
    try:
        import jpholiday
    except ImportError:  # pragma: no cover - jpholiday is a dependency
        return False
    return bool(jpholiday.is_holiday(day))


class Profile:
    """A loaded, validated profile.  ``data`` is the resolved dict (shared sections merged in)."""

    __slots__ = ("path", "data", "_origins", "_tz")

    def __init__(self, path: Path, data: dict, origins: dict[tuple, Path]) -> None:
        self.path = path
        self.data = data
        self._origins = origins
        self._tz: ZoneInfo | None = None

    def __repr__(self) -> str:
        return f"<Profile {self.id} {str(self.path)!r}>"

    # -- plain attributes -------------------------------------------------------
    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def default(self) -> bool:
        return self.data["default"]

    @property
    def sources(self) -> list[str]:
        return self.data["sources"]

    @property
    def timezone(self) -> ZoneInfo:
        if self._tz is None:
            self._tz = _zone(self.data["timezone"])
        return self._tz

    @property
    def shared_from(self) -> dict[str, str]:
        """{section (dotted for a part of a table): profile id it is taken from}."""
        return self.data["shared_from"]

    def origin(self, key: str) -> Path:
        """The file a section (dotted key, e.g. 'context.asset_classes') comes from."""
        parts = tuple(key.split("."))
        best: tuple = ()
        for k in self._origins:
            if len(k) > len(best) and parts[: len(k)] == k:
                best = k
        return self._origins.get(best, self.path)

    @property
    def poc(self) -> dict:
        return self.data["poc"]

    @property
    def channels(self) -> list[dict]:
        return self.data["channels"]

    @property
    def report_sources(self) -> list[dict]:
        return self.data["report_sources"]

    @property
    def incident_types(self) -> list[dict]:
        return self.data["incident_types"]

    @property
    def level_tables(self) -> dict[str, dict]:
        return self.data["level_tables"]

    @property
    def fault_types(self) -> list[dict]:
        return self.data["fault_types"]

    @property
    def context(self) -> dict:
        return self.data["context"]

    @property
    def phases(self) -> list[dict]:
        return self.data["phases"]

    @property
    def roles(self) -> list[dict]:
        return self.data["roles"]

    @property
    def outside_bodies(self) -> list[dict]:
        return self.data["outside_bodies"]

    @property
    def notification_rules(self) -> list[dict]:
        return self.data["notification_rules"]

    @property
    def notification_due_hours(self) -> float:
        """Hours a party may stay 未連絡 before its notification is overdue, unless
        the notification rule sets its own ``due_hours`` (see csirt_tui.response)."""
        return self.data["notification_due_hours"]

    @property
    def report_form(self) -> dict:
        return self.data["report_form"]

    @property
    def priority(self) -> dict:
        """The priority rule: ``{source, by_level?, by_threat?, unrated, long_stop_hours, raise}``
        (see docs/profile-format.md; applied by ``csirt_tui.triage.compute_priority``)."""
        return self.data["priority"]

    # -- look-ups ------------------------------------------------------------------
    def _find(self, items: list[dict], item_id: str, what: str) -> dict:
        for item in items:
            if item["id"] == item_id:
                return item
        known = ", ".join(i["id"] for i in items)
        raise KeyError(f"{what}が見つかりません: {item_id!r}（プロファイル {self.id}: {known}）")

    def incident_type(self, type_id: str) -> dict:
        return self._find(self.incident_types, type_id, "インシデントの種類")

    def level_table_for(self, type_id: str) -> dict | None:
        key = self.incident_type(type_id).get("level_table")
        return self.level_tables[key] if key else None

    def report_source(self, source_id: str) -> dict:
        return self._find(self.report_sources, source_id, "通報の種類")

    def channel(self, channel_id: str) -> dict:
        return self._find(self.channels, channel_id, "受付チャネル")

    def role(self, role_id: str) -> dict:
        return self._find(self.roles, role_id, "役割")

    def outside_body(self, body_id: str) -> dict:
        return self._find(self.outside_bodies, body_id, "外部の関係者")

    def party(self, party_id: str) -> dict:
        """A role or an outside body (their ids never collide)."""
        return self._find(self.roles + self.outside_bodies, party_id, "連絡先（役割・外部の関係者）")

    def phases_for(self, type_id: str | None) -> list[dict]:
        """The phases that apply to an incident type (a phase without ``types`` applies to all)."""
        return [p for p in self.phases if not p["types"] or type_id in p["types"]]

    def step(self, step_id: str) -> tuple[dict, dict]:
        for phase in self.phases:
            for step in phase["steps"]:
                if step["id"] == step_id:
                    return phase, step
        raise KeyError(f"手順が見つかりません: {step_id!r}（プロファイル {self.id}）")

    def parties_to_notify(self, *, level: int | None, type_id: str | None,
                          personal_data: bool = False, crime: bool = False,
                          threat_level: int | None = None,
                          long_stop: bool = False) -> list[tuple[dict, dict]]:
        """(party, rule) for each rule whose conditions all hold, in rule order,
        each party once (with the first rule that named it)."""
        facts = {"personal_data": personal_data, "crime": crime, "long_stop": long_stop}
        out: list[tuple[dict, dict]] = []
        seen: set[str] = set()
        for rule in self.notification_rules:
            when = rule["when"]
            if "always" in when and not when["always"]:
                continue
            if "level_at_least" in when and (level is None or level < when["level_at_least"]):
                continue
            if "threat_level_at_least" in when and (
                    threat_level is None or threat_level < when["threat_level_at_least"]):
                continue
            if "types" in when and type_id not in when["types"]:
                continue
            if any(key in when and when[key] != value for key, value in facts.items()):
                continue
            for party_id in rule["parties"]:
                if party_id not in seen:
                    seen.add(party_id)
                    out.append((self.party(party_id), rule))
        return out

    def logs_secure_by(self, since: datetime) -> dict | None:
        """When logs of an event at ``since`` may be gone (``log_retention``; 水戸 7-1(6)ア
        「各種ログ…を取得し、1か月程度保存しなければならない」): {date (the day, local),
        months, text, source, step (the step that should show it: the evidence step)};
        None when the profile says nothing.  The date is ``since`` plus the months, the
        last day of a shorter month when that day does not exist (1/31 + 1 → 2/28)."""
        rule = self.data.get("log_retention")
        if not rule:
            return None
        import calendar

        local = since if since.tzinfo is None else since.astimezone(self.timezone)
        month = local.month - 1 + rule["months"]
        year, month = local.year + month // 12, month % 12 + 1
        day = min(local.day, calendar.monthrange(year, month)[1])
        return {"date": local.date().replace(year=year, month=month, day=day), "months": rule["months"],
                "text": rule["text"], "source": rule["source"], "step": rule["step"]}

    def handling_rule(self, rule_id: str) -> dict | None:
        """The handling rule ``rule_id`` ({id, label?, text, source}) of the profile's own
        ``context.handling_rules`` (else of its asset classes, as profiles kept them before
        issue 16), or None."""
        context = self.data["context"]
        rules = context.get("handling_rules")
        if rules is None:
            rules = context["asset_classes"].get("handling_rules", [])
        return next((rule for rule in rules if rule["id"] == rule_id), None)

    def rule_for(self, rule_id: str) -> dict:
        """{label, text, source} of the handling rule ``rule_id`` the desk cites (DESK_RULES: "send",
        "mixed"): the profile's own, else the desk's, which cites no one (issue 16: never another
        organisation's clause). ``text`` is the clause's wording, "" for the desk's rule."""
        desk = DESK_RULES[rule_id]
        rule = self.handling_rule(rule_id)
        if rule is None:
            return dict(desk)
        return {"label": rule.get("label") or desk["label"], "text": rule.get("text", ""), "source": rule["source"]}

    @property
    def send_rule(self) -> dict:
        """The rule for sending material of 機密性2 and above (the export's and the bundle's
        encryption): 水戸 3(2)キ for Mito, the desk's rule elsewhere (:meth:`rule_for`)."""
        return self.rule_for("send")

    @property
    def threats(self) -> list[dict]:
        """The kinds of threat the rules name ({id, label, text, source}); [] when they name none."""
        return self.data["threats"]

    @property
    def procedure_review(self) -> dict | None:
        """{months, text, source, evaluation_step?}: how often the procedures are evaluated and
        reviewed (csirt_tui.reviews), or None when the profile's rules set no period."""
        return self.data.get("procedure_review")

    def in_hours(self, when: datetime) -> bool:
        """Is the PoC open at ``when``?  A naive datetime is taken as the profile's local time.

        Open on the listed weekdays between start (inclusive) and end (exclusive);
        when ``closed_on_holidays``, closed on Japanese public holidays (jpholiday)
        and over the year-end holidays 12/29–1/3.
        """
        if when.tzinfo is None:
            local = when
        else:
            local = when.astimezone(self.timezone)
        hours = self.poc["hours"]
        if local.weekday() not in hours["days"]:
            return False
        day = local.date()
        if hours["closed_on_holidays"] and (_is_year_end(day) or _is_public_holiday(day)):
            return False
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        return _hhmm_minutes(hours["start"]) * 60 <= seconds < _hhmm_minutes(hours["end"]) * 60

    def to_json(self) -> dict:
        """A JSON-ready copy of the resolved profile, with ``path`` added."""
        out = _deepcopy(self.data)
        out["path"] = str(self.path)
        return out
