"""Writing a file the operator asked for (a PDF report, a CSV list): atomically
(the old file or the new one, never half), mode 0600 (it holds what callers
reported), and every problem in plain words naming the path."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import DomainError, TargetExistsError


def plain_os_error(err: OSError, path: Path, kind: str = "") -> str:
    """``err`` in plain words; ``kind`` (e.g. "pdf") is the file name's ending in hints."""
    from .jsonfile import FileBusyError, plain_busy

    code = err.errno
    if isinstance(err, FileBusyError):  # Windows: Acrobat holds the PDF, Excel the CSV …
        return plain_busy(path, err.winerror)
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"{path}: ディスクの空きが足りないため書き込めませんでした。空きを作るか別の場所を指定してください"
    if code in (errno.EACCES, errno.EPERM):
        return f"{path}: 書き込む権限がありません。別の場所を指定してください"
    if code == errno.EISDIR:
        return f"{path}: フォルダです。ファイル名（…{kind}）まで指定してください"
    if code == errno.ENOENT:
        return f"{path.parent}: フォルダがありません"
    if code == errno.ENOTDIR:
        return f"{path}: 途中にフォルダでないものがあります"
    if code == errno.EROFS:
        return f"{path}: 読み取り専用の場所です。別の場所を指定してください"
    if code == errno.ENAMETOOLONG:
        return f"{path}: ファイル名が長すぎます"
    return f"{path}: 書き込めませんでした（{err.strerror or err}）"


def check_target(path: str | os.PathLike, kind: str = "", error: type[DomainError] = DomainError, *,
                 store_root: str | os.PathLike | None = None, force: bool = False) -> Path:
    """Refuse a target that cannot or must not be written to, before the work is done:
    a folder, a missing folder, anything that is not a regular file (a device, a FIFO,
    a link: they would be replaced by a file), a place inside the store other than its
    ``reports/`` (the store's own files), and, unless ``force``, a file that is there
    already (:class:`TargetExistsError`: the CLI wants --force, the TUI asks)."""
    if not str(path).strip():
        raise error("保存先を指定してください")
    p = Path(os.path.expanduser(str(path)))
    if p.is_symlink():
        raise error(f"{p}: リンク（ショートカット）です。リンク先ではなく、ファイルの場所を直接指定してください")
    if p.is_dir():
        raise error(plain_os_error(OSError(errno.EISDIR, "Is a directory"), p, kind))
    if not p.parent.exists():
        raise error(plain_os_error(OSError(errno.ENOENT, "No such directory"), p, kind))
    if not p.parent.is_dir():
        raise error(plain_os_error(OSError(errno.ENOTDIR, "Not a directory"), p, kind))
    try:
        st = p.stat()
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise error(plain_os_error(err, p, kind)) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise error(f"{p}: 通常のファイルではありません（デバイス・パイプなど）。別の場所を指定してください")
    if store_root is not None:
        root = Path(store_root).resolve()
        where = p.resolve()
        if (where == root or root in where.parents) and not (root / "reports") in where.parents:
            raise error(f"{p}: ストアの中です（ストアのファイルを壊すおそれがあります）。"
                        f"{root / 'reports'} か、ストアの外を指定してください")
    if st is not None and not force:
        raise _exists(error)(p, f"{p}: 既にあります。上書きするか、別の名前を指定してください")
    _probe(p, kind, error)
    return p


_EXISTS: dict[type, type] = {}


def _exists(error: type[DomainError]) -> type[TargetExistsError]:
    """TargetExistsError that is also the caller's ``error`` (ReportError …), so that
    both ``except ReportError`` and ``except TargetExistsError`` see it."""
    if issubclass(error, TargetExistsError):
        return error
    if error not in _EXISTS:
        _EXISTS[error] = type(f"{error.__name__}TargetExists", (TargetExistsError, error), {})
    return _EXISTS[error]


def _probe(p: Path, kind: str, error: type[DomainError]) -> None:
    """Can a file be made in ``p``'s folder? (denied, read-only …) Asked before the
    work, so that a refused export leaves nothing behind, on the record or on disk."""
    from .jsonfile import write_flags

    probe = p.with_name(f".{p.name}.{os.getpid()}.probe.tmp")
    try:
        os.close(os.open(probe, write_flags(), 0o600))
    except OSError as err:
        raise error(plain_os_error(err, p, kind)) from None
    try:
        os.unlink(probe)
    except OSError:
        pass


def write_private(path: str | os.PathLike, payload: bytes, kind: str = "",
                  error: type[DomainError] = DomainError, *, store_root: str | os.PathLike | None = None,
                  force: bool = False) -> Path:
    """Write ``payload`` to ``path`` atomically with mode 0600; problems raise ``error``."""
    from .jsonfile import atomic_write

    p = check_target(path, kind, error, store_root=store_root, force=force)
    try:
        atomic_write(p, payload)
    except OSError as err:
        raise error(plain_os_error(err, p, kind)) from None
    return p
