"""Where a report goes and what its file is called (no ReportLab: the export dialog fills its
path in when it opens, and importing ReportLab for that took ~300 ms of the dialog's first
open, issue 15). ``export`` and ``drillreview`` make the PDFs and use these."""

from __future__ import annotations

from pathlib import Path

from .content import VARIANTS


def default_report_path(store, name: str) -> Path:
    """Where a report goes unless the operator says otherwise: the store's reports/ folder."""
    folder = Path(store.root) / "reports"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / name


def form1_filename(incident_id: str, variant: str, now) -> str:
    return f"{incident_id}_報告様式1_{VARIANTS.get(variant, variant)}_{now:%Y%m%d-%H%M}.pdf"


def review_filename(incident_id: str, now) -> str:
    return f"{incident_id}_訓練の講評_{now:%Y%m%d-%H%M}.pdf"
