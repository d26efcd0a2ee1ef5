"""Organisation profiles (csirt_tui.profiles and data/profiles/*.toml)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import posix_modes
from csirt_tui.profiles import (
    DEFAULT_PROFILE_ID,
    clear_cache,
    Profile,
    ProfileError,
    list_profiles,
    load_profile,
)
from csirt_tui.resources import profiles_dir

SHIPPED = profiles_dir()
SHIPPED_IDS = ["mutsu", "tsukuba", "mito", "osaki"]
FIXTURES = Path(__file__).parent / "fixtures" / "profiles"
SEEDS = Path("/work/shared/seeds")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the shipped profiles that a test may break."""
    for path in SHIPPED.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    # make sure the (path, mtime) cache sees a change even on coarse clocks
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def error_of(ref, directory: Path | None = None) -> str:
    with pytest.raises(ProfileError) as info:
        load_profile(ref, directory)
    message = str(info.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------------------
# The shipped profiles


@pytest.mark.parametrize("pid", SHIPPED_IDS)
def test_shipped_profile_loads(pid):
    profile = load_profile(pid)
    assert isinstance(profile, Profile)
    assert profile.id == pid
    assert profile.path == (SHIPPED / f"{pid}.toml").resolve()
    assert str(profile.timezone) == "Asia/Tokyo"
    assert [i["key"] for i in profile.poc["items"]] == ["found_at", "place", "what", "reporter"]
    assert profile.report_form["opening"].count("{summary}") == 1
    assert len(profile.report_form["sections"]) == 8
    # every incident type with a level table points at an existing one
    for itype in profile.incident_types:
        if itype.get("level_table"):
            assert profile.level_table_for(itype["id"]) is profile.level_tables[itype["level_table"]]
    # step ids are unique within the profile
    steps = [s["id"] for p in profile.phases for s in p["steps"]]
    assert len(steps) == len(set(steps))
    json.dumps(profile.to_json(), ensure_ascii=False)


def test_list_profiles_default_first():
    infos = list_profiles()
    assert [i.id for i in infos] == ["mutsu", "mito", "osaki", "tsukuba"]
    assert infos[0].id == DEFAULT_PROFILE_ID == "mutsu"
    assert infos[0].default and not any(i.default for i in infos[1:])
    assert infos[0].name == "むつ市CSIRT"
    assert infos[0].path == SHIPPED / "mutsu.toml"


def test_list_profiles_shows_broken_file(tree):
    shutil.copy(FIXTURES / "syntax_error.toml", tree / "broken.toml")
    infos = {i.id: i for i in list_profiles(tree)}
    assert infos["broken"].name == "broken"
    assert list_profiles(tree)[0].id == "mutsu"


def test_tsukuba_level_tables_verbatim():
    tables = load_profile("tsukuba").level_tables
    stop = tables["system_stop"]
    assert stop["source"] == "つくば 別表1(1)"
    assert stop["title"] == "情報システムの停止等に係る判断基準表"
    level0 = stop["levels"][0]
    assert (level0["level"], level0["label"], level0["incident"]) == (0, "レベル0", False)
    assert level0["criterion"] == "インシデントとはみなさない"
    assert "雷による一時的な停電 等" in level0["examples"]
    assert "端末単体の障害（ネットワーク及びハードウェア障害等）" in level0["examples"]
    assert "フロア又は建物全体の一時的な電源障害" in stop["levels"][1]["examples"]
    assert "ウイルスを検知したが、端末のウイルス対策ソフトが駆除した場合 等" in tables["cyber"]["levels"][0]["examples"]
    assert "情報システム等から外部に向けた攻撃を行っている形跡が確認された場合" in tables["cyber"]["levels"][2]["examples"]
    assert "個人情報の漏えい" in tables["theft"]["levels"][2]["examples"]
    assert [lv["criterion"] for lv in tables["theft"]["levels"]] == [
        "インシデントとはみなさない", "軽微なインシデントとみなすもの", "重大なインシデントとみなすもの"]


def test_tsukuba_report_sources_and_form():
    profile = load_profile("tsukuba")
    citizen = profile.report_source("citizen")
    assert citizen["label"] == "市民等からの通報"
    assert citizen["callback"] is True
    assert citizen["method"].startswith("通報が虚偽でないことを確認するため、通報者の連絡先を控え、折り返しの連絡を行う。")
    assert profile.report_source("staff")["callback"] is False
    form = profile.report_form
    assert form["title"] == "情報セキュリティインシデント事案の発生について（報告）"
    assert form["addressee"] == "最高情報セキュリティ責任者（CISO）様"
    assert form["sections"][0]["items"] == ["発生した事案の種類", "発生日時", "発生場所", "発生した事案の概要"]
    assert form["sections"][7]["label"] == "その他（時系列の対応記録等）"
    assert form["classification_default"] == "機密性2"
    policy = profile.step("policy")[1]
    assert len(policy["points"]) == 5
    assert "必要なコストの積算及びそれに対する予算措置" in policy["points"]


def test_osaki_fault_checks_and_threat_levels():
    profile = load_profile("osaki")
    fault = profile.incident_type("fault")
    assert fault["fault_checks"] is True
    assert profile.level_table_for("fault") is None
    checks = {f["id"]: f["checks"] for f in profile.fault_types}
    assert "電源スイッチ・コンセントの確認" in checks["hardware"]
    assert "コマンドによる確認" in checks["network"]
    table = profile.level_table_for("fraud")
    assert table["scale"] == "threat"
    levels = {lv["level"]: lv for lv in table["levels"]}
    assert sorted(levels) == [1, 2, 3]
    groups3 = {g["group"]: g["examples"] for g in levels[3]["example_groups"]}
    assert "ファイアウォールを通過した不正アクセス" in groups3["電子的侵入"]
    assert "重要度の高い情報資産の紛失及び盗難" in groups3["物理的侵入"]
    assert levels[1]["consequence"] == "不正行為の脅威度がレベル1に該当する場合,庁内で必要な報告を行い,緊急時対応を解除する。"
    assert "システムの停止" in levels[3]["consequence"]
    extra = [(i["key"], i["kind"]) for i in profile.poc["extra_items"]]
    assert extra == [("act_at", "time"), ("device", "text"), ("damage", "multiline"), ("first_aid", "yesno")]
    # phases are per emergency type
    assert all(p["types"] == ["fault"] for p in profile.phases_for("fault"))
    assert all(p["types"] == ["fraud"] for p in profile.phases_for("fraud"))
    assert profile.outside_body("jlis")["contact"] == {"weekday": "", "night_holiday": ""}


def cited_as_own(value):
    """``value`` with each ``source`` 「デスクの既定（X）」 read back as X (a shared section's cite of
    another organisation's rule, as the profile that shares it shows it)."""
    if isinstance(value, dict):
        return {k: (v[len("デスクの既定（"):-1] if k == "source" and isinstance(v, str) and v.startswith("デスクの既定（")
                    else cited_as_own(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [cited_as_own(v) for v in value]
    return value


def test_mutsu_shares_tsukuba_tables_and_says_so():
    mutsu, tsukuba = load_profile("mutsu"), load_profile("tsukuba")
    assert mutsu.shared_from["level_tables"] == "tsukuba"
    assert mutsu.shared_from["phases"] == "tsukuba"
    assert mutsu.shared_from["report_form"] == "tsukuba"
    assert mutsu.shared_from["context.asset_classes"] == "mito"
    assert mutsu.origin("level_tables").name == "tsukuba.toml"
    assert mutsu.origin("context.asset_classes").name == "mito.toml"
    assert mutsu.origin("context.segments").name == "mutsu.toml"
    # the same tables; their cites read as the desk's default for Mutsu (its 要綱 has none: issue 16)
    assert cited_as_own(mutsu.level_tables) == tsukuba.level_tables
    # the same steps, Tsukuba's words read as Mutsu's where they name Tsukuba's bodies (read_as)
    assert [[s["id"] for s in p["steps"]] for p in mutsu.phases] == [[s["id"] for s in p["steps"]] for p in tsukuba.phases]
    assert mutsu.step("policy")[1] == tsukuba.step("policy")[1]
    phase = {k: v for k, v in mutsu.step("policy")[0].items() if k != "steps"}  # its steps' warnings: read_as
    assert cited_as_own(phase) == {k: v for k, v in tsukuba.step("policy")[0].items() if k != "steps"}
    assert phase["source"] == "デスクの既定（つくば 4(2)③(I)）"
    assert "つくば市" not in mutsu.step("publish")[1]["text"]
    assert "内外の関係者への連絡" in mutsu.step("publish")[1]["text"]
    # Mutsu keeps its own words for its own types
    assert mutsu.incident_type("theft")["label"] == "盗難・紛失"
    assert mutsu.incident_type("theft")["source"] == "むつ 別表第2"
    assert mutsu.level_table_for("theft")["source"] == "デスクの既定（つくば 別表1(3)）"
    assert tsukuba.level_table_for("theft")["source"] == "つくば 別表1(3)"
    assert mutsu.poc["items"][0]["label"] == "①事象を発見した日時（いつ）"
    assert mutsu.poc["extension"] == "2141"
    assert mutsu.role("csirt_deputy")["deputy_for"] == "csirt_chief"
    # the file says why, in a comment next to shared_from
    text = (SHIPPED / "mutsu.toml").read_text(encoding="utf-8")
    assert re.search(r"#.*つくば.*共用", text)


def test_mito_roles_and_unknown_contacts():
    mito = load_profile("mito")
    assert [r["label"] for r in mito.roles][:6] == [
        "最高情報セキュリティ責任者（CISO）", "最高情報セキュリティ副責任者（副CISO）", "情報セキュリティ責任者",
        "情報セキュリティ管理者", "情報システム管理者", "情報システム担当者"]
    assert mito.role("ciso")["post"] == "議長"
    assert mito.role("sec_manager")["post"] == "議会事務局総務課長"
    assert mito.poc["section"] == "議会事務局総務課"
    assert mito.poc["address"] == mito.poc["phone"] == ""
    labels = [c["label"] for c in mito.context["asset_classes"]["confidentiality"]]
    assert labels == ["機密性3A", "機密性3B", "機密性3C", "機密性2", "機密性1"]
    assert mito.step("lateral")[0]["id"] == "initial"
    assert mito.shared_from["level_tables"] == "tsukuba"


def test_lookups_raise_keyerror_with_id():
    profile = load_profile("mutsu")
    assert profile.channel("naisen")["label"] == "内線電話"
    assert profile.party("police")["label"] == "警察機関"
    assert profile.party("csirt_chief")["post"] == "統括情報セキュリティ責任者（総務部長）"
    phase, step = profile.step("evidence")
    assert phase["id"] == "initial" and step["label"] == "証拠保全"
    with pytest.raises(KeyError, match="nosuch"):
        profile.incident_type("nosuch")
    with pytest.raises(KeyError, match="インシデント"):
        profile.incident_type("nosuch")
    with pytest.raises(KeyError):
        profile.step("nosuch")
    with pytest.raises(KeyError):
        profile.party("nosuch")


def test_quotes_are_verbatim(monkeypatch):
    """Procedure text in the profiles is the seeds' own wording (whitespace aside),
    before the profile's 読み替え (read_as: tests/test_profile_names.py checks those)."""
    import csirt_tui.profiles as profiles

    monkeypatch.setattr(profiles, "_apply_read_as", lambda data, ctx: None)
    monkeypatch.setattr(profiles, "_check_names", lambda data, ctx, deps: None)
    clear_cache()
    if not SEEDS.is_dir():
        pytest.skip("seed documents not available")
    seeds = re.sub(r"\s+", "", "".join(p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")))
    quoted = {"definition", "text", "duties", "method", "criterion", "consequence", "examples",
              "checks", "events", "handling", "title", "addressee", "sender"}
    missing = []

    def verbatim(part: str) -> bool:
        return re.sub(r"\s+", "", part) in seeds

    def walk(value, path, quote):
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(sub, f"{path}.{key}", key in quoted or (quote and key == "examples"))
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                walk(sub, f"{path}[{i}]", quote)
        elif isinstance(value, str) and quote:
            # "修復可能な場合：…" and "項目（内容／内容）" put seed cells side by side
            for part in re.split(r"[\n：／]", value):
                if path.endswith(".addressee"):
                    part = part.removesuffix("様")  # the letter's honorific, not a quote
                if part and not verbatim(part):
                    missing.append(f"{path}: {part}")

    for pid in SHIPPED_IDS:
        data = load_profile(pid).to_json()
        for section in ("report_sources", "incident_types", "level_tables", "fault_types",
                        "context", "phases", "roles", "report_form"):
            walk(data[section], f"{pid}.{section}", False)
    assert not missing, "\n".join(missing)


# ---------------------------------------------------------------------------
# Broken profiles: one per failure kind


BROKEN = [
    # (id, file to edit, old, new, profile to load, file named, key path, expected…)
    ("missing_key", "mutsu.toml", 'name = "むつ市CSIRT"\n', "", "mutsu",
     "mutsu.toml", "name", "expected a non-empty string, got nothing"),
    ("wrong_type", "mutsu.toml", 'extension = "2141"', "extension = 2141", "mutsu",
     "mutsu.toml", "poc.extension", "expected a string, got 2141"),
    ("wrong_type_bool", "tsukuba.toml", "callback = false", 'callback = "no"', "tsukuba",
     "tsukuba.toml", "report_sources[0].callback", "expected true or false, got 'no'"),
    ("bad_enum", "osaki.toml", 'kind = "yesno"', 'kind = "boolean"', "osaki",
     "osaki.toml", "poc.extra_items[3].kind", "expected one of 'time', 'text', 'multiline', 'yesno', got 'boolean'"),
    ("bad_time", "mutsu.toml", 'start = "08:30"', 'start = "8:30"', "mutsu",
     "mutsu.toml", "poc.hours.start", "expected a time 'HH:MM', got '8:30'"),
    ("unknown_key", "mutsu.toml", 'mail = "joho@', 'phnoe = "0175"\nmail = "joho@', "mutsu",
     "mutsu.toml", "poc.phnoe", "unexpected key; expected one of: source, organisation"),
    ("bad_level_table_ref", "mutsu.toml", 'level_table = "theft"', 'level_table = "thef"', "mutsu",
     "mutsu.toml", "incident_types[2].level_table", "expected the id of a table in level_tables (cyber, system_stop, theft), got 'thef'"),
    ("bad_party_ref", "mito.toml", 'parties = ["police"]', 'parties = ["polise"]', "mito",
     "mito.toml", "notification_rules[3].parties[0]", "expected the id of a role or an outside body"),
    ("bad_deputy_ref", "mutsu.toml", 'deputy_for = "csirt_chief"', 'deputy_for = "chief"', "mutsu",
     "mutsu.toml", "roles[1].deputy_for", "expected the id of a role"),
    ("bad_type_ref", "osaki.toml", 'when = { types = ["fault"]', 'when = { types = ["faults"]', "osaki",
     "osaki.toml", "notification_rules[4].when.types[0]", "expected the id of an incident type"),
    ("duplicate_id", "mutsu.toml", 'id = "gaisen"', 'id = "naisen"', "mutsu",
     "mutsu.toml", "channels[1].id", "expected a unique channel id (already used at channels[0].id), got 'naisen'"),
    ("party_id_clash", "mutsu.toml", 'id = "others"', 'id = "police"', "mutsu",
     "mutsu.toml", "outside_bodies[3].id", "expected a unique party id (already used at roles[9].id)"),
    ("level0_incident", "tsukuba.toml", "criterion = \"インシデントとはみなさない\"\nincident = false",
     "criterion = \"インシデントとはみなさない\"\nincident = true", "tsukuba",
     "tsukuba.toml", "level_tables.system_stop.levels[0].incident", "expected false for level 0"),
    ("no_summary_placeholder", "tsukuba.toml", "業務において{summary}の事案", "業務において〇〇〇〇〇の事案", "tsukuba",
     "tsukuba.toml", "report_form.opening", "expected a string with a {summary} placeholder"),
    # an error inside a shared section names the file the section comes from
    ("error_in_shared_section", "tsukuba.toml", 'scale = "level"', 'scale = "levels"', "mutsu",
     "tsukuba.toml", "level_tables.system_stop.scale", "expected one of 'level', 'threat', got 'levels'"),
    ("id_is_not_file_name", "mutsu.toml", 'id = "mutsu"', 'id = "mutu"', "mutsu",
     "mutsu.toml", "id", "expected the file name without .toml ('mutsu'), got 'mutu'"),
    ("unknown_shared_from_target", "mutsu.toml", 'level_tables = "tsukuba"', 'level_tables = "nagoya"', "mutsu",
     "mutsu.toml", "shared_from.level_tables", "expected the id of a profile in"),
    ("unknown_shared_section", "mutsu.toml", 'level_tables = "tsukuba"', 'level_table = "tsukuba"', "mutsu",
     "mutsu.toml", "shared_from.level_table", "unexpected key; expected one of: poc"),
    ("shared_and_local", "mutsu.toml", 'report_form = "tsukuba"', 'report_form = "tsukuba"\nchannels = "tsukuba"', "mutsu",
     "mutsu.toml", "channels", "expected either a local value or shared_from.channels, got 'both'"),
    ("shared_from_self", "mutsu.toml", 'level_tables = "tsukuba"', 'level_tables = "mutsu"', "mutsu",
     "mutsu.toml", "shared_from.level_tables", "expected a profile that does not lead back here (cycle mutsu → mutsu), got 'mutsu'"),
    ("shared_target_lacks_section", "mutsu.toml", 'report_form = "tsukuba"', 'report_form = "tsukuba"\nfault_types = "tsukuba"', "mutsu",
     "mutsu.toml", "shared_from.fault_types", "expected a profile that has 'fault_types', got 'tsukuba'"),
]


@pytest.mark.parametrize("case", BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_profile_message(tree, case):
    _, name, old, new, load, file_named, key, expected = case
    edit(tree / name, old, new)
    message = error_of(load, tree)
    assert message.startswith(str(tree / file_named) + ": "), message
    assert f": {key}: " in message, message
    assert "expected" in message and expected in message, message


def test_shared_from_follows_chains(tree):
    # mito shares report_form from tsukuba; osaki pointed at mito follows that chain fine
    edit(tree / "osaki.toml", 'report_form = "tsukuba"', 'report_form = "mito"')
    assert load_profile("osaki", tree).report_form["source"] == "デスクの既定（つくば 報告様式1）"


def test_shared_from_cycle(tree):
    # a and b are Mutsu under other names, each taking its level tables from the other
    text = (tree / "mutsu.toml").read_text(encoding="utf-8")
    for me, other in (("a", "b"), ("b", "a")):
        (tree / f"{me}.toml").write_text(
            text.replace('id = "mutsu"', f'id = "{me}"')
                .replace('level_tables = "tsukuba"', f'level_tables = "{other}"'),
            encoding="utf-8")
    message = error_of("a", tree)
    assert message == (f"{tree / 'a.toml'}: shared_from.level_tables: expected a profile that does not "
                       "lead back here (cycle a → b → a), got 'b'")
    assert "cycle b → a → b" in error_of("b", tree)


def test_toml_syntax_error():
    message = error_of(FIXTURES / "syntax_error.toml")
    assert message.startswith(f"{FIXTURES / 'syntax_error.toml'}: TOML syntax error: ")
    assert "line 4" in message


def test_unknown_profile_id():
    message = error_of("nagoya")
    assert message == "unknown profile 'nagoya' (available: mutsu, mito, osaki, tsukuba)"


def test_missing_profile_file(tmp_path):
    message = error_of(tmp_path / "nothere.toml")
    assert str(tmp_path / "nothere.toml") in message and "expected" in message


def test_dotted_shared_from_may_be_written_as_a_subtable(tree):
    edit(tree / "mutsu.toml", '"context.asset_classes" = "mito"\n"context.personal_data" = "mito"\n',
         'context = { asset_classes = "mito", personal_data = "mito" }\n')
    profile = load_profile("mutsu", tree)
    assert profile.shared_from["context.asset_classes"] == "mito"
    assert profile.origin("context.personal_data") == tree / "mito.toml"


def test_cache_follows_mtime_of_shared_files(tree):
    first = load_profile("mutsu", tree)
    assert load_profile("mutsu", tree) is first
    assert load_profile(tree / "mutsu.toml") is first
    edit(tree / "tsukuba.toml", "雷による一時的な停電 等", "雷による一時的な停電（試験）")
    second = load_profile("mutsu", tree)
    assert second is not first
    assert "雷による一時的な停電（試験）" in second.level_tables["system_stop"]["levels"][0]["examples"]


# ---------------------------------------------------------------------------
# PoC hours


@pytest.mark.parametrize("when, expected", [
    ("2026-11-24 10:00", True),    # Tuesday
    ("2026-11-24 08:30", True),    # opening time
    ("2026-11-24 08:29", False),
    ("2026-11-24 17:15", False),   # closing time is out
    ("2026-11-24 18:00", False),
    ("2026-11-21 10:00", False),   # Saturday
    ("2026-11-22 10:00", False),   # Sunday
    ("2026-11-23 10:00", False),   # 勤労感謝の日 (Monday)
    ("2026-12-30 10:00", False),   # 年末年始 (Wednesday)
    ("2027-01-04 10:00", True),    # first working day of 2027
])
def test_in_hours(when, expected):
    assert load_profile("mutsu").in_hours(datetime.fromisoformat(when)) is expected


def test_in_hours_converts_aware_datetimes():
    profile = load_profile("mutsu")
    assert profile.in_hours(datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)) is True   # 10:00 JST
    assert profile.in_hours(datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)) is False  # 18:00 JST


# ---------------------------------------------------------------------------
# Who to tell


def ids(pairs):
    return [(party["id"], rule["id"]) for party, rule in pairs]


def test_parties_mutsu_levels():
    mutsu = load_profile("mutsu")
    assert ids(mutsu.parties_to_notify(level=None, type_id=None)) == []
    assert ids(mutsu.parties_to_notify(level=0, type_id="system_stop")) == [("csirt_manager", "not_incident")]
    assert ids(mutsu.parties_to_notify(level=1, type_id="cyber")) == [
        ("csirt_manager", "triage_progress"), ("csirt_chief", "triage_progress")]
    assert ids(mutsu.parties_to_notify(level=2, type_id="theft", personal_data=True, crime=True)) == [
        ("csirt_manager", "triage_progress"), ("csirt_chief", "triage_progress"),
        ("ciso", "serious"), ("soumusho", "serious"), ("aomori", "serious"),
        ("ppc", "personal_data"), ("police", "crime")]


def test_parties_mito_always_and_personal_data():
    mito = load_profile("mito")
    assert ids(mito.parties_to_notify(level=None, type_id="cyber", personal_data=True)) == [
        ("sec_manager", "report_first"), ("dx_division", "report_first"),
        ("ciso", "report_chain"), ("sec_chief", "report_chain"), ("sys_manager", "report_chain"),
        ("privacy_committee", "personal_data")]


def test_parties_osaki_threat_and_long_stop():
    osaki = load_profile("osaki")
    first = [("sec_officer", "first_report"), ("sys_admin", "first_report")]
    assert ids(osaki.parties_to_notify(level=None, type_id="fraud", threat_level=1)) == first
    assert ids(osaki.parties_to_notify(level=None, type_id="fraud", threat_level=2)) == first + [
        ("miyagi", "threat_agencies"), ("jlis", "threat_agencies"), ("sec_chief", "threat_chief")]
    assert ("council", "threat_council") in ids(osaki.parties_to_notify(level=None, type_id="fraud", threat_level=3))
    assert ids(osaki.parties_to_notify(level=None, type_id="fault", long_stop=True)) == first + [
        ("sec_chief", "long_stop"), ("council", "long_stop"), ("miyagi", "long_stop"), ("jlis", "long_stop")]
    # the long-stop rule is for faults only
    assert ids(osaki.parties_to_notify(level=None, type_id="fraud", long_stop=True)) == first


# ---------------------------------------------------------------------------
# Import cost


def test_import_is_light():
    code = ("import sys, csirt_tui.profiles; "
            "heavy = [m for m in ('textual', 'tomllib', 'jpholiday', 'zoneinfo', 'typing') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8",
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == ""


# -- the validated profile kept on disk between starts (the desk's start-up) --

def _no_build(monkeypatch):
    import csirt_tui.profiles as profiles_mod

    def refuse(path):
        raise AssertionError(f"built {path} instead of reading the cache")

    monkeypatch.setattr(profiles_mod, "_build", refuse)


def test_disk_cache_is_used(tree, tmp_path, monkeypatch):
    cache = tmp_path / "store" / ".cache"
    first = load_profile("mutsu", tree, cache_dir=cache)
    files = list(cache.iterdir())
    assert [p.name for p in files] == ["profile-mutsu.json"]
    clear_cache()
    _no_build(monkeypatch)
    again = load_profile("mutsu", tree, cache_dir=cache)
    assert again.data == first.data and again.name == first.name


@posix_modes
def test_disk_cache_is_private(tree, tmp_path):
    cache = tmp_path / "store" / ".cache"
    load_profile("mutsu", tree, cache_dir=cache)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache / "profile-mutsu.json").stat().st_mode) == 0o600


@pytest.mark.parametrize("shared", [False, True])
def test_disk_cache_never_serves_a_changed_file(tree, tmp_path, shared):
    """Same size, same mtime, other content: the cache is keyed on the bytes."""
    cache = tmp_path / ".cache"
    load_profile("osaki", tree, cache_dir=cache)
    # osaki shares its PoC items from mutsu: a change there must show too
    path = tree / ("mutsu.toml" if shared else "osaki.toml")
    # same byte length: 日時 → 時刻 (each 6 bytes in UTF-8)
    old, new = ("①事象を発見した日時", "①事象を発見した時刻") if shared else ('name = "大崎市', 'name = "XXXXXXXXX')
    st = path.stat()
    raw = path.read_bytes()
    assert old.encode() in raw and len(old.encode()) == len(new.encode())
    path.write_bytes(raw.replace(old.encode(), new.encode(), 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    clear_cache()
    data = load_profile("osaki", tree, cache_dir=cache).data
    assert data == load_profile(path.parent / "osaki.toml").data  # as built from the files
    assert new.removeprefix('name = "') in json.dumps(data, ensure_ascii=False)


def test_disk_cache_damaged_or_unwritable_is_passed_over(tree, tmp_path, monkeypatch):
    cache = tmp_path / ".cache"
    good = load_profile("mito", tree, cache_dir=cache).data
    (cache / "profile-mito.json").write_text('{"format": 1, "data": [', encoding="utf-8")
    clear_cache()
    assert load_profile("mito", tree, cache_dir=cache).data == good
    blocked = tmp_path / "file-not-folder"
    blocked.write_bytes(b"x")
    clear_cache()
    assert load_profile("mito", tree, cache_dir=blocked / ".cache").data == good


def test_an_invalid_profile_is_refused_even_with_a_cache(tree, tmp_path):
    cache = tmp_path / ".cache"
    load_profile("mutsu", tree, cache_dir=cache)
    edit(tree / "mutsu.toml", 'name = "むつ市CSIRT"', "name = 42")
    clear_cache()
    with pytest.raises(ProfileError):
        load_profile("mutsu", tree, cache_dir=cache)
