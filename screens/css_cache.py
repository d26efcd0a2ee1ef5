"""Textual's parsed stylesheets kept from one start of the desk to the next (issue 15: Ctrl+N).

Textual parses the desk's .tcss files and every widget class's DEFAULT_CSS again in each process
(``Stylesheet._parse_rules``; its cache lives as long as the process): ~40 ms before the
dashboard's first paint and ~45 ms more when the first intake is built (screens.tcss, the
form's TextArea, Checkbox, Select …), which a Ctrl+N pressed at once after that paint waited for
(bench/intake.py at 10,000 incidents). The rules parsed are kept in one file in the per-user cache
folder and read back at the next start (~10 ms for all of them).

What is kept, and when it is used:
- keyed by what the parse depends on: the CSS text itself (its SHA-256), where it was read from,
  its flags, and the theme's variables (one file per set of variables, named with Textual's,
  Rich's and Python's versions: the pickle holds objects of both libraries). Edited CSS, another
  theme, another Textual or Rich: parsed as before, and kept too.
- the desk's own files of other versions (their names: ``tcss-…-<16 hex>.pickle``, and the
  atomic writer's temporary files of those) are removed when a new file is written; nothing else
  in the folder is touched. One that cannot be removed (held open by an antivirus scan on
  Windows) is left quietly, tried again at the next write.
- only rules that parsed without errors (Textual reports a faulty stylesheet as before);
- written once, as the desk closes (App.on_unmount), through the atomic writer, when this start
  parsed anything new; never read or written when ``$CSIRT_DESK_CSS_CACHE`` is ``off``.
- a file that cannot be read (damaged, another format) is ignored: parsed as before.

The file is a pickle: it holds Textual's own objects. It is as trusted as the byte-code caches
Python runs from: the operator's own cache folder (Windows: %LOCALAPPDATA%\\csirt-desk\\Cache;
Linux: ~/.cache/csirt-desk), or ``$CSIRT_DESK_CSS_CACHE``; never the store, which another desk may
write.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sys
from pathlib import Path

ENV_CACHE = "CSIRT_DESK_CSS_CACHE"  # a folder, or "off"
MAX_ENTRIES = 400  # beyond this, only the rules this start used are kept

_installed = False
_files: dict[str, "_File"] = {}  # the variables' digest -> its file's rules
_prefix: str | None = None  # the start of this process's file names (versions): prefix()
# what the cache writes (any version, the old naming without Rich's too), and the atomic writer's
# temporary files of it (csirt_tui.jsonfile.atomic_write: .<name>.<pid>.<thread>.tmp)
_OURS = re.compile(r"(?P<name>tcss-.+-[0-9a-f]{16}\.pickle)(?:\.[0-9]+\.[0-9]+\.tmp)?")


class _File:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.rules: dict[tuple, list] = {}
        self.used: set[tuple] = set()
        self.changed = False
        if path is None:
            return
        try:
            with open(path, "rb") as fh:
                data = pickle.load(fh)
            if isinstance(data, dict):
                self.rules = data
        except Exception:  # noqa: BLE001  (missing, damaged, another version: parsed as before)
            self.rules = {}


def cache_dir() -> Path | None:
    env = os.environ.get(ENV_CACHE)
    if env == "off":
        return None
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("csirt-desk", appauthor=False))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def dist_version(module) -> str:
    """The installed version of a package (``module``): the name of its ``<name>-<version>.dist-info``
    folder beside it (one listing of that folder; importlib.metadata, which textual.__version__
    used, took ~35 ms to import during the start), else importlib.metadata's answer."""
    name = module.__name__
    try:
        found = [entry.name for entry in os.scandir(Path(module.__file__).parent.parent)
                 if entry.name.startswith(f"{name}-") and entry.name.endswith(".dist-info")]
    except (OSError, TypeError):  # (a package without a file: a zip import, a namespace)
        found = []
    if len(found) == 1:
        return found[0][len(name) + 1:-len(".dist-info")]
    from importlib.metadata import version

    return version(name)


def prefix() -> str:
    """The start of the names of this process's files: the versions of what the pickle holds."""
    global _prefix
    if _prefix is None:
        import rich
        import textual

        _prefix = (f"tcss-t{dist_version(textual)}-r{dist_version(rich)}"
                   f"-py{sys.version_info[0]}{sys.version_info[1]}-")
    return _prefix


def _file_for(variables: dict[str, str]) -> _File:
    key = _digest(repr(sorted(variables.items())))[:16]
    kept = _files.get(key)
    if kept is None:
        where = cache_dir()
        kept = _files[key] = _File(where / f"{prefix()}{key}.pickle" if where is not None else None)
    return kept


def install() -> None:
    """Have Textual's stylesheets take rules parsed by an earlier start. Idempotent."""
    global _installed
    if _installed:
        return
    from textual.css.stylesheet import Stylesheet

    parse_rules = Stylesheet._parse_rules

    def _parse_rules(self, css: str, read_from, is_default_rules: bool = False, tie_breaker: int = 0,
                     scope: str = ""):  # type: ignore[no-untyped-def]
        if (css, read_from, is_default_rules, tie_breaker, scope) in self._parse_cache:
            return parse_rules(self, css, read_from, is_default_rules, tie_breaker, scope)  # this process's
        kept = _file_for(self._variables)
        if kept.path is None:
            return parse_rules(self, css, read_from, is_default_rules, tie_breaker, scope)
        key = (_digest(css), tuple(read_from), is_default_rules, tie_breaker, scope)
        rules = kept.rules.get(key)
        if isinstance(rules, list):
            self._parse_cache[(css, read_from, is_default_rules, tie_breaker, scope)] = rules
        else:
            rules = parse_rules(self, css, read_from, is_default_rules, tie_breaker, scope)
            if not any(rule.errors for rule in rules):
                kept.rules[key] = rules
                kept.changed = True
        kept.used.add(key)
        return rules

    _parse_rules.__doc__ = parse_rules.__doc__
    Stylesheet._parse_rules = _parse_rules
    _installed = True


def save() -> None:
    """Write what this start parsed anew (called as the desk closes). Never raises: a cache."""
    from csirt_tui.jsonfile import atomic_write, make_dirs

    for kept in _files.values():
        if not kept.changed or kept.path is None:
            continue
        rules = kept.rules
        if len(rules) > MAX_ENTRIES:
            rules = {key: value for key, value in rules.items() if key in kept.used}
        try:
            payload = pickle.dumps(rules, protocol=pickle.HIGHEST_PROTOCOL)
            make_dirs(kept.path.parent)
            atomic_write(kept.path, payload, durable=False)
            kept.changed = False
        except Exception:  # noqa: BLE001  (a full disk, an unpicklable rule: parsed again next time)
            continue
        _prune(kept.path.parent)


def _prune(folder: Path) -> None:
    """Remove the cache's own files of other versions in ``folder`` (see the module's doc)."""
    ours = prefix()
    try:
        names = [entry.name for entry in os.scandir(folder) if entry.is_file(follow_symlinks=False)]
    except OSError:
        return
    for name in names:
        match = _OURS.fullmatch(name.removeprefix("."))
        if match is None or match["name"].startswith(ours) or (name.startswith(".") != name.endswith(".tmp")):
            continue
        try:
            os.unlink(folder / name)
        except OSError:  # held open (an antivirus scan on Windows), gone already: next time
            pass
