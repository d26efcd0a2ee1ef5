"""The incident screen's header draws no character of ambiguous East Asian width for an empty
value: an intake that chose no 通報の種類 (a drill started from a scenario, a call taken in a
hurry) and an incident not yet triaged showed 「通報の種類: —」 and 「未分類   —」, and — is one
cell for Textual but two in a Japanese terminal font (issue 15)."""

from __future__ import annotations

import unicodedata

from conftest import sample_intake
from csirt_tui.views import incident_text_lines
from screens.incident import chrome_lines


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
