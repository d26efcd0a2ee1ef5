"""The incident screen's header draws no character of ambiguous East Asian width for an empty
value: an intake that chose no 通報の種類 (a drill started from a scenario, a call taken in a
hurry) and an incident not yet triaged showed 「通報の種類: —」 and 「未分類   —」, and — is one
cell for Textual but two in a Japanese terminal font (issue 15)."""

from __future__ import annotations

import unicodedata

from conftest import sample_intake
from csirt_tui.views import incident_text_lines, intake_entry_text
from csirt_tui.views import chrome_lines


def _header(lines: list[str]) -> list[str]:
    return lines[: lines.index("時系列の記録:")] if "時系列の記録:" in lines else lines


def test_empty_values_in_the_header_are_drawn_one_cell_wide(store):
    inc = store.create_incident(sample_intake(reporter_type=None, place=""), operator="試験")
    inc = store.incident(inc.id)
    raw = _header(incident_text_lines(store.profile, inc))
    assert any("—" in line for line in raw)  # what the core says: the desk's mark for "none"
    drawn = _header(chrome_lines(incident_text_lines(store.profile, inc)))
    found = [(line, ch) for line in drawn for ch in line if unicodedata.east_asian_width(ch) == "A"]
    assert found == []
    assert any("通報の種類: -" in line for line in drawn)
    assert any("   -   フェーズ" in line for line in drawn if line.startswith("種別"))


def test_the_intake_entrys_item_labels_are_drawn_one_cell_wide_but_typed_text_is_not(store):
    """The 受付 entry's text starts its lines with the profile's labels (「①事象を発見した日時
    （いつ）: 14:10」): the desk's words, drawn as (1); a typed ① stays as typed."""
    intake = sample_intake(what="①端末 ②プリンタ: 両方")
    inc = store.create_incident(intake, operator="試験", text=intake_entry_text(store.profile, intake))
    inc = store.incident(inc.id)
    labels = tuple(i["label"] for i in store.profile.poc["items"])
    assert labels[0].startswith("①")
    raw = incident_text_lines(store.profile, inc)
    record = "\n".join(raw[raw.index("時系列の記録:") + 1:]).split("\n")
    assert any(line.startswith(labels[0] + ":") for line in record)  # the core's text, as stored
    drawn = chrome_lines(raw, labels)
    drawn_record = "\n".join(drawn[drawn.index("時系列の記録:") + 1:]).split("\n")
    for label in labels:
        assert not any(line.startswith(label + ":") for line in drawn_record), label
    assert any(line.startswith("(1)" + labels[0][1:] + ":") for line in drawn_record)
    assert any("①端末 ②プリンタ: 両方" in line for line in drawn_record)  # typed: as typed


def test_a_blank_reporter_is_blank_on_the_intake_entry_not_slashes(store):
    """A call cut before (4) was recorded 「(4)発見者の氏名・連絡先:  /  /」 (the three parts joined,
    all empty); one part typed keeps the others' places."""
    profile = store.profile
    label = next(i["label"] for i in profile.poc["items"] if i["key"] == "reporter")
    blank = intake_entry_text(profile, sample_intake(reporter={"name": "", "section": "", "contact": ""}))
    assert f"{label}: " in blank.splitlines()
    some = intake_entry_text(profile, sample_intake(reporter={"name": "税務 太郎", "section": "", "contact": "内線2301"}))
    assert f"{label}: 税務 太郎 /  / 内線2301" in some.splitlines()
