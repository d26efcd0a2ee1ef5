"""Writing a file the operator asked for (a PDF report, a CSV list): atomically
(the old file or the new one, never half), mode 0600 (it holds what callers
reported), and every problem in plain words naming the path."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .errors import DomainError


def plain_os_error(err: OSError, path: Path, kind: str = "") -> str:
    """``err`` in plain words; ``kind`` (e.g. "pdf") is the file name's ending in hints."""
    from .jsonfile import FileBusyError, plain_busy

    code = err.errno
    if isinstance(err, FileBusyError):  # Windows: Acrobat holds the PDF, Excel the CSV …
        return plain_busy(path)
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


def check_target(path: str | os.PathLike, kind: str = "", error: type[DomainError] = DomainError) -> Path:
    """Refuse a target that cannot be written to, before the work is done."""
    if not str(path).strip():
        raise error("保存先を指定してください")
    p = Path(os.path.expanduser(str(path)))
    if p.is_dir():
        raise error(plain_os_error(OSError(errno.EISDIR, "Is a directory"), p, kind))
    if not p.parent.exists():
        raise error(plain_os_error(OSError(errno.ENOENT, "No such directory"), p, kind))
    if not p.parent.is_dir():
        raise error(plain_os_error(OSError(errno.ENOTDIR, "Not a directory"), p, kind))
    return p


def write_private(path: str | os.PathLike, payload: bytes, kind: str = "",
                  error: type[DomainError] = DomainError) -> Path:
    """Write ``payload`` to ``path`` atomically with mode 0600; problems raise ``error``."""
    from .jsonfile import atomic_write

    p = check_target(path, kind, error)
    try:
        atomic_write(p, payload)
    except OSError as err:
        raise error(plain_os_error(err, p, kind)) from None
    return p
