"""Each organisation's procedures with only its own names (issue 16).

Every role, body and organisation that a profile's visible text names must
exist in that profile (its roles, outside bodies, PoC, ``names``, ``aliases``);
text taken from another profile is read as the profile's own words with
``read_as`` (読み替え).  Each finding of the issue is a case below: the shipped
fix is taken out of a copy of the profiles and the profile must then be refused,
naming the key and the foreign name.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from csirt_tui.profiles import TEXT_SECTIONS, _read, clear_cache, load_profile, name_findings
from csirt_tui.resources import profiles_dir
from test_profiles import error_of as refusal

SHIPPED = profiles_dir()
SHIPPED_IDS = ["mutsu", "tsukuba", "mito", "osaki"]
SEEDS = Path("/work/shared/seeds")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for path in SHIPPED.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    clear_cache()
    yield tmp_path
    clear_cache()


def drop_read_as(path: Path, wording: str) -> None:
    """Take the [[read_as]] rule for ``wording`` out of a profile file."""
    text = path.read_text(encoding="utf-8")
    rx = re.compile(r"\[\[read_as\]\]\nfrom = " + re.escape(json.dumps(wording, ensure_ascii=False))
                    + r"\n.*?\n\n", re.S)
    new, n = rx.subn("", text, count=1)
    assert n == 1, f"no read_as for {wording!r} in {path.name}"
    path.write_text(new, encoding="utf-8")


def drop_line(path: Path, line: str, after: str) -> None:
    """Remove ``line`` where it follows ``after`` (e.g. an aliases line under a note)."""
    text = path.read_text(encoding="utf-8")
    assert after + "\n" + line + "\n" in text, f"{line!r} after {after!r} not in {path.name}"
    path.write_text(text.replace(after + "\n" + line + "\n", after + "\n", 1), encoding="utf-8")


# ---------------------------------------------------------------------------
# The shipped profiles


@pytest.mark.parametrize("pid", SHIPPED_IDS)
def test_shipped_profile_names_only_its_own(pid):
    """Against the names of all four profiles (the load checks only those it shares from)."""
    profile = load_profile(pid)
    others = {SHIPPED / f"{o}.toml": _read(SHIPPED / f"{o}.toml") for o in SHIPPED_IDS if o != pid}
    assert name_findings(profile.data, others) == []


def test_what_each_operator_reads_now():
    mutsu, tsukuba, mito, osaki = (load_profile(p) for p in SHIPPED_IDS)
    # 通報の種類: つくば市 is Tsukuba's city
    assert tsukuba.report_source("agency")["label"] == "つくば市、都道府県、国、自治体セプター(J-LIS)等からの通報"
    assert mutsu.report_source("agency")["label"] == "都道府県、国、自治体セプター(J-LIS)等からの通報"
    assert mito.report_source("agency")["label"] == \
        "市長公室デジタルイノベーション課、都道府県、国、自治体セプター(J-LIS)等からの通報"
    assert mito.report_source("alert")["method"].endswith("担当している委託事業者に問い合わせる。")
    # Mutsu's publication step and its committee step
    assert "つくば市" not in json.dumps(mutsu.phases, ensure_ascii=False)
    assert "委員会" not in json.dumps(mutsu.phases, ensure_ascii=False)
    committee = mutsu.step("committee")[1]
    assert committee["text"] == "インシデントの収束宣言を行い、報告書をまとめる。"  # むつ 2条(1)オ
    assert "委員会の承認を得る" in tsukuba.step("committee")[1]["text"]
    # 議会運営 is Mito's word
    for profile in (mutsu, tsukuba, osaki):
        assert "議会" not in json.dumps(profile.context, ensure_ascii=False), profile.id
    assert "議会運営に支障" in mito.context["asset_classes"]["integrity"][0]["criterion"]
    assert "住基ネットの運用に支障" in osaki.context["asset_classes"]["availability"][0]["criterion"]
    # Mito's steps name Mito's roles
    mito_text = json.dumps(mito.phases, ensure_ascii=False)
    for foreign in ("インシデントハンドラー", "CSIRT 管理者", "CSIRT管理者", "外部委託事業者"):
        assert foreign not in mito_text
    assert not re.search(r"(?<!議会 )CSIRT 責任者", mito_text)
    assert mito.step("policy")[1]["text"].startswith("議会 CSIRT は、委託事業者等と連携し")
    assert mito.step("close_confirm")[1]["text"].startswith("議会 CSIRT 責任者は、インシデントの収束を確認し")
    assert mito.role("council_csirt_chief")["label"] == "議会CSIRT責任者"


def test_report_form_goes_to_and_from_each_organisations_own_roles():
    mutsu, tsukuba, mito, osaki = (load_profile(p) for p in SHIPPED_IDS)
    for profile in (mutsu, tsukuba):
        form = profile.report_form
        assert (form["addressee"], form["sender"], form["sender_note"]) == (
            "最高情報セキュリティ責任者（CISO）様", "統括情報セキュリティ責任者", "（CSIRT責任者）")
    # 水戸 6-3(2)イ・エ: 議会 CSIRT reports to the CISO (議長); 2(7)ウ 議会 CSIRT 責任者
    assert mito.report_form["addressee"] == "最高情報セキュリティ責任者（CISO）様"
    assert (mito.report_form["sender"], mito.report_form["sender_note"]) == ("議会 CSIRT 責任者", "")
    # 大崎 4条(4)・5条(3)(5): セキュリティ責任者 reports to セキュリティ統括責任者
    assert osaki.report_form["addressee"] == "セキュリティ統括責任者様"
    assert (osaki.report_form["sender"], osaki.report_form["sender_note"]) == ("セキュリティ責任者", "")
    # the committee summary goes to each organisation's own top (csirt_tui.report.summary)
    assert [p.report_form.get("summary_addressee") for p in (mutsu, tsukuba, mito, osaki)] == [
        "最高情報セキュリティ責任者（CISO）", "情報セキュリティ委員会", "最高情報セキュリティ責任者（CISO）",
        "セキュリティ統括責任者"]
    # the sections are still Tsukuba's, shared
    assert osaki.report_form["sections"] == tsukuba.report_form["sections"]


def test_mito_is_cited_as_the_seed_numbers_it():
    """The seed's 不正アクセス対策 heading reads 7-6 (there is no 7-5): cite what the operator can find."""
    for pid in SHIPPED_IDS:
        assert "7-5" not in json.dumps(load_profile(pid).to_json(), ensure_ascii=False), pid
    mito = load_profile("mito")
    assert mito.step("attack_records")[1]["source"] == "水戸 7-6(3)（不正アクセス対策）"
    assert mito.step("attack_response")[1]["source"] == "水戸 7-6(2)（不正アクセス対策）"
    if SEEDS.is_dir():
        seed = next(SEEDS.glob("003_*.txt")).read_text(encoding="utf-8")
        assert "7-6 不正アクセス対策" in seed and "7-5 " not in seed
        heading = seed.index("7-6 不正アクセス対策")
        body = seed[heading:seed.index("7-6 セキュリティ情報の収集")]
        assert "(2) 攻撃への対処" in body and "(3) 記録の保存" in body


# ---------------------------------------------------------------------------
# Each finding of the issue: the fix taken out, the profile refused


def _cite(case, pid, fixed, original, key, foreign="'つくば'"):
    """A finding whose fix is a cite read as the desk's default: undone by writing ``original`` back."""
    return (case, f"{pid}.toml", ("text", fixed, original), pid, key, foreign)


FINDINGS = [
    # (case, file, how to undo the fix, profile loaded, key in the message, foreign name in the message)
    ("mutsu_report_source_tsukuba_city", "mutsu.toml", ("read_as", "つくば市、都道府県"), "mutsu",
     "report_sources[3].label", "'つくば市'"),
    ("mito_report_source_tsukuba_city", "mito.toml", ("read_as", "つくば市"), "mito",
     "report_sources[3].label", "'つくば市'"),
    ("mito_report_source_vendor", "mito.toml", ("read_as", "外部委託事業者"), "mito",
     "report_sources[1].method", "'外部委託事業者'"),
    ("mutsu_publication_names_tsukuba_city_csirt", "mutsu.toml", ("read_as", "つくば市 CSIRT その他の関係者"), "mutsu",
     "phases[3].steps[2].text", "'つくば市CSIRT'"),
    ("mutsu_committee_not_in_its_yoko", "mutsu.toml",
     ("read_as", "CISO は、情報セキュリティ委員会（以下「委員会」という。）を開催し、当該インシデントの発生から収束までの"
                 "一連の過程及び再発防止策等を報告し、委員会の承認を得る。"), "mutsu",
     "phases[4].steps[2].text", "'情報セキュリティ委員会'"),
    ("mutsu_asset_class_gikai", "mutsu.toml", ("read_as", "議会運営に支障"), "mutsu",
     "context.asset_classes.integrity[0].criterion", "'議会'"),
    ("tsukuba_asset_class_gikai", "tsukuba.toml", ("read_as", "議会の安定的な運営に支障"), "tsukuba",
     "context.asset_classes.availability[0].criterion", "'議会'"),
    ("osaki_asset_class_gikai", "osaki.toml", ("read_as", "議会運営に支障"), "osaki",
     "context.asset_classes.integrity[0].criterion", "'議会'"),
    ("mito_step_incident_handler", "mito.toml", ("read_as", "インシデントハンドラーは"), "mito",
     "phases[1].steps[0].text", "'インシデントハンドラー'"),
    ("mito_step_csirt_manager", "mito.toml", ("read_as", "CSIRT 管理者は"), "mito",
     "phases[1].steps[3].text", "'CSIRT管理者'"),
    ("mito_step_csirt_chief", "mito.toml", ("read_as", "CSIRT 責任者は"), "mito",
     "phases[5].steps[0].text", "'CSIRT責任者'"),
    ("mito_step_report_to_csirt_roles", "mito.toml", ("read_as", "CSIRT 管理者及び CSIRT 責任者"), "mito",
     "phases[1].steps[0].text", "'CSIRT管理者'"),
    ("mito_form1_sender", "mito.toml", ("read_as", "統括情報セキュリティ責任者"), "mito",
     "report_form.sender", "'統括情報セキュリティ責任者'"),
    ("mito_form1_sender_note", "mito.toml", ("read_as", "（CSIRT責任者）"), "mito",
     "report_form.sender_note", "'CSIRT責任者'"),
    ("osaki_form1_addressee_ciso", "osaki.toml", ("read_as", "最高情報セキュリティ責任者（CISO）様"), "osaki",
     "report_form.addressee", "'最高情報セキュリティ責任者(CISO)'"),
    ("osaki_form1_sender", "osaki.toml", ("read_as", "統括情報セキュリティ責任者"), "osaki",
     "report_form.sender", "'統括情報セキュリティ責任者'"),
    ("osaki_form1_sender_note", "osaki.toml", ("read_as", "（CSIRT責任者）"), "osaki",
     "report_form.sender_note", "'CSIRT責任者'"),
    # the committee summary's addressee (Tsukuba 4(2)⑤(III)) is no body of the others
    ("mutsu_summary_addressee", "mutsu.toml", ("read_as", "情報セキュリティ委員会"), "mutsu",
     "report_form.summary_addressee", "'情報セキュリティ委員会'"),
    ("mito_summary_addressee", "mito.toml", ("read_as", "情報セキュリティ委員会"), "mito",
     "report_form.summary_addressee", "'情報セキュリティ委員会'"),
    ("osaki_summary_addressee", "osaki.toml", ("read_as", "情報セキュリティ委員会"), "osaki",
     "report_form.summary_addressee", "'情報セキュリティ委員会'"),
    # a cite of another organisation's rule, shown as if it were this one's (issue 16: 「つくば 3(1)」 to
    # a Mutsu operator); each fix is the desk's default, the clause after it
    *(_cite(*row) for row in [
        ("mutsu_exclusion_cites_tsukuba", "mutsu", "デスクの既定（要綱に定めなし。つくば 3(1)）", "つくば 3(1)",
         "incident_types[0].exclusions[0].source"),
        ("mutsu_jlis_cites_tsukuba", "mutsu", "デスクの既定（要綱に定めなし。つくば 4(2)②(I)）", "つくば 4(2)②(I)",
         "outside_bodies[6].source"),
        ("mutsu_jlis_note_cites_tsukuba", "mutsu", "通報元（通報の種類: デスクの既定、つくば 4(2)②(I)）",
         "通報元（共用している、つくば 4(2)②(I) の通報の種類）", "outside_bodies[6].note"),
        ("mutsu_rule_reason_cites_tsukuba", "mutsu", "デスクの既定（要綱に定めなし。つくば 4(2)④(I)）: ", "つくば 4(2)④(I): ",
         "notification_rules[0].reason"),
        ("mutsu_rule_reason_cites_mito", "mutsu", "。デスクの既定（水戸 7-6(3)（不正アクセス対策））: ",
         "、水戸 7-6(3)（不正アクセス対策）: ", "notification_rules[4].reason", "'水戸'"),
        ("mito_step_cites_tsukuba", "mito", 'source = "デスクの既定（つくば 4(2)③(I)(ア)）"', 'source = "つくば 4(2)③(I)(ア)"',
         "phases[1].steps[0].source"),
        ("mito_phase_cites_tsukuba", "mito", "／デスクの既定（つくば 4(2)③(I)）", "／つくば 4(2)③(I)", "phases[1].source"),
        ("mito_warning_cites_tsukuba", "mito", "損なうおそれ（デスクの既定、つくば 4(2)③(I)(ウ)「その際",
         "損なうおそれ（つくば 4(2)③(I)(ウ)「その際", "phases[1].steps[8].warn_if_not_done[0].message"),
        ("osaki_body_note_cites_tsukuba", "osaki", "（報告様式1 はデスクの既定、つくば 報告様式1）", "（つくばの報告様式1を共用）",
         "outside_bodies[3].note"),
    ]),
    ("mutsu_shared_warning_cites_tsukuba", "mutsu.toml", ("read_as", "（つくば 4(2)③"), "mutsu",
     "phases[0].steps[3].warn_if_not_done[0].message", "'つくば'"),
    # an alias is how a profile says a word is its own body (むつ 別表第3「警察等」)
    ("mutsu_police_alias", "mutsu.toml", ("line", 'aliases = ["警察"]', 'source = "むつ 2条(1)エ、別表第3"'), "mutsu",
     "roles[8].post", "'警察'"),
    ("osaki_jlis_alias", "osaki.toml", ("line", 'aliases = ["J-LIS"]', 'source = "大崎 3条、5条(2)"'), "osaki",
     "outside_bodies[1].note", "'J-LIS'"),
]


@pytest.mark.parametrize("case", FINDINGS, ids=[c[0] for c in FINDINGS])
def test_each_finding_is_refused_without_its_fix(tree, case):
    _, name, undo, pid, key, foreign = case
    load_profile(pid, tree)  # loads with the fix
    clear_cache()
    if undo[0] == "read_as":
        drop_read_as(tree / name, undo[1])
    elif undo[0] == "text":
        path = tree / name
        text = path.read_text(encoding="utf-8")
        assert undo[1] in text, f"{undo[1]!r} not in {name}"
        path.write_text(text.replace(undo[1], undo[2], 1), encoding="utf-8")
    else:
        drop_line(tree / name, undo[1], undo[2])
    message = refusal(pid, tree)
    assert f"{key}: expected only names this profile defines" in message
    assert f"got {foreign}" in message
    assert message.startswith(str(tree))  # names the file the text is in


def test_a_text_shared_from_another_file_names_that_file(tree):
    """The finding is in tsukuba.toml's text, shared: the message names tsukuba.toml."""
    drop_read_as(tree / "mutsu.toml", "つくば市 CSIRT その他の関係者")
    message = refusal("mutsu", tree)
    assert message.startswith(str(tree / "tsukuba.toml") + ": phases[3].steps[2].text:")
    assert "'つくば市CSIRT' is named in tsukuba.toml" in message


def test_read_as_that_reads_nothing_is_refused(tree):
    path = tree / "mutsu.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'from = "つくば市、都道府県"', 'from = "つくば市、県"', 1), encoding="utf-8")
    message = refusal("mutsu", tree)
    assert "read_as[0].from: expected a wording that occurs in report_sources, got 'つくば市、県'" in message


def test_read_as_section_must_be_a_text_section(tree):
    path = tree / "mutsu.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'sections = ["report_sources"]', 'sections = ["report_source"]', 1), encoding="utf-8")
    message = refusal("mutsu", tree)
    assert "read_as[0].sections[0]: expected one of 'poc'" in message


def test_read_as_reads_every_wording_once_longest_first(tree):
    """Two readings whose wordings overlap: the longer is read, the reading is not read again."""
    path = tree / "mito.toml"
    text = path.read_text(encoding="utf-8")
    # 「CSIRT 責任者は」 inside 「議会 CSIRT 責任者は」 (a reading) must not become 議会 議会 …
    assert "議会 議会" not in json.dumps(load_profile("mito", tree).phases, ensure_ascii=False)
    assert text.count("[[read_as]]") >= 5


def test_longest_name_wins():
    own = {"name": "甲市", "roles": [{"label": "統括情報セキュリティ責任者", "post": ""}],
           "phases": [{"label": "x", "steps": [{"label": "統括情報セキュリティ責任者への報告", "text": "CISO へ"}]}]}
    other = {"roles": [{"label": "情報セキュリティ責任者", "post": ""},
                       {"label": "最高情報セキュリティ責任者（CISO）", "post": ""}]}
    found = name_findings(own, {Path("other.toml"): other})
    assert [(n, f.name) for _, n, f in found] == [("CISO", "other.toml")]
    assert found[0][0] == ("phases", 0, "steps", 0, "text")


def test_ids_and_ordinary_words_are_not_names_and_citations_are_checked():
    """住民・報道機関 and 「その他」 are words; a citation of another organisation's rule (its
    ``source`` or a cite in the text) is a finding unless it says it is the desk's default."""
    own = {"name": "甲市", "roles": [], "outside_bodies": [],
           "phases": [{"label": "公表", "source": "デスクの既定（つくば 4(2)④）", "steps": [
               {"id": "publish", "label": "住民への連絡", "text": "その他の関係者及び報道機関への連絡",
                "source": "甲市 要綱 2条"}]}]}
    other = {"names": ["つくば市", "つくば"], "roles": [{"label": "その他", "post": ""}],
             "outside_bodies": [{"label": "住民", "kind": "public"}, {"label": "報道機関", "kind": "press"},
                                {"label": "つくば市 CSIRT", "kind": "municipal"}]}
    assert name_findings(own, {Path("other.toml"): other}) == []
    own["phases"][0]["steps"][0]["text"] += "（つくば市 CSIRT）"
    assert [n for _, n, _ in name_findings(own, {Path("other.toml"): other})] == ["つくば市CSIRT"]
    own["phases"][0]["steps"][0]["text"] = "その他の関係者への連絡（デスクの既定、つくば 4(2)④）"
    assert name_findings(own, {Path("other.toml"): other}) == []
    # a cite of the other organisation's rule as if it were this one's
    own["phases"][0]["steps"][0]["source"] = "つくば 4(2)④(III)"
    own["phases"][0]["source"] = "つくば 4(2)④"
    assert sorted((p, n) for p, n, _ in name_findings(own, {Path("other.toml"): other})) == [
        (("phases", 0, "source"), "つくば"), (("phases", 0, "steps", 0, "source"), "つくば")]
    # the desk's default does not cover a role or a body of the other organisation
    own["phases"][0]["source"] = "デスクの既定（つくば市 CSIRT に連絡）"
    assert ("つくば市CSIRT" in [n for _, n, _ in name_findings(own, {Path("other.toml"): other})])


def test_a_shared_section_cites_the_other_organisation_as_the_desks_default():
    """Mutsu's level tables, phases and report form are Tsukuba's, shared; its asset classes are
    Mito's: each cite reads 「デスクの既定（…）」 for Mutsu and stays as written for its owner."""
    mutsu, tsukuba, mito = (load_profile(p) for p in ("mutsu", "tsukuba", "mito"))
    assert mutsu.level_table_for("cyber")["source"] == "デスクの既定（つくば 別表1(2)）"
    assert tsukuba.level_table_for("cyber")["source"] == "つくば 別表1(2)"
    assert mutsu.report_form["source"] == "デスクの既定（つくば 報告様式1）"
    assert mutsu.context["asset_classes"]["source"] == "デスクの既定（水戸 3(1)）"
    assert mito.context["asset_classes"]["source"] == "水戸 3(1)"
    assert mutsu.step("evidence")[0]["source"] == "デスクの既定（つくば 4(2)③(I)）"
    # a cite of the profile's own rule is left alone (むつ's own segments)
    assert mutsu.context["segments"][0]["source"].startswith("むつ")
    # no shipped profile shows another organisation's cite other than as the desk's default
    cites = {"mutsu": "むつ", "tsukuba": "つくば", "mito": "水戸", "osaki": "大崎"}
    for pid, word in cites.items():
        shown = json.dumps({k: v for k, v in load_profile(pid).data.items() if k in TEXT_SECTIONS},
                           ensure_ascii=False)
        for other in set(cites.values()) - {word}:
            for m in re.finditer(other, shown):
                start = shown.rfind('"', 0, m.start())
                assert "デスクの既定" in shown[start:m.start()], (pid, shown[start:m.end() + 30])
