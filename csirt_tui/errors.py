"""Domain errors: the CLI turns these into one line on stderr and exit 1."""

from __future__ import annotations


class DomainError(Exception):
    """An error the operator can act on; ``str(err)`` is one line."""


class StoreError(DomainError):
    """The store cannot be used as asked."""


class StoreCorruptError(StoreError):
    """A store file is not what csirt-desk wrote: names the file and what is wrong."""

    def __init__(self, path, problem: str, newest_backup=None):
        self.path = path
        self.problem = problem
        self.newest_backup = newest_backup
        msg = f"{path}: {problem}"
        if newest_backup is not None:
            msg += f" — 最新のバックアップ: {newest_backup} (csirt-desk restore で復元できます)"
        else:
            msg += " — バックアップはありません"
        msg += "。ファイルは変更していません。"
        super().__init__(msg)


class StoreBusyError(StoreError):
    """Another process holds the store lock for too long. ``holder``: what the store says of
    the work that holds it (Store.holder: an import's what, since when, by whom), if it says."""

    def __init__(self, message: str, holder: dict | None = None):
        super().__init__(message)
        self.holder = holder


class UnknownIncidentError(DomainError):
    pass


class TargetExistsError(DomainError):
    """The file to write already exists: the CLI wants --force, the TUI asks first."""

    def __init__(self, path, message: str):
        self.path = path
        super().__init__(message)
