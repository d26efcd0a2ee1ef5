"""Where the shipped data (profiles, demo data) and assets (styles) are.

In a source checkout they are the top-level ``data/`` and ``assets/``
folders; in an installed wheel they are ``csirt_tui/_data`` and
``csirt_tui/_assets`` (see ``pyproject.toml``).
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _pick(installed: str, checkout: str) -> Path:
    inside = _PKG / installed
    if inside.is_dir():
        return inside
    return _PKG.parent / checkout


def data_dir() -> Path:
    return _pick("_data", "data")


def assets_dir() -> Path:
    return _pick("_assets", "assets")


def profiles_dir() -> Path:
    return data_dir() / "profiles"


def demo_dir() -> Path:
    return data_dir() / "demo"
