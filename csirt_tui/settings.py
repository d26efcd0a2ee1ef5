"""The operator's own settings (not the store's): today the theme. One small JSON file in
the per-user configuration folder (Windows: %APPDATA%\\csirt-desk; Linux:
~/.config/csirt-desk), or where ``$CSIRT_DESK_SETTINGS`` says. A missing or unreadable
file gives the defaults: a setting never keeps the desk from starting."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .jsonfile import atomic_write, make_dirs

ENV_SETTINGS = "CSIRT_DESK_SETTINGS"


def settings_path() -> Path:
    env = os.environ.get(ENV_SETTINGS)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("csirt-desk", appauthor=False, roaming=True)) / "settings.json"


def load_settings() -> dict[str, Any]:
    try:
        with open(settings_path(), "rb") as fh:
            data = json.loads(fh.read(65536).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_setting(key: str, value: Any) -> str | None:
    """Keep ``key = value``; returns what went wrong (None: kept)."""
    path = settings_path()
    data = load_settings()
    if data.get(key) == value:
        return None
    data[key] = value
    try:
        make_dirs(path.parent)
        atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
    except OSError as err:
        return f"{path}: {err.strerror or err}"
    return None
