"""Windows' file semantics, emulated on Linux so that CI exercises them.

Two behaviours of Windows that Linux does not have, and that broke every file
csirt-desk wrote there:

* **Text-mode descriptors.** On Windows ``os.open`` without ``O_BINARY`` gives a
  descriptor in text mode: each LF written through it becomes CRLF. Likewise a
  text-mode ``open()`` / ``os.fdopen()`` with ``newline=None`` writes CRLF.
  :class:`WindowsFiles` gives ``os`` an ``O_BINARY`` flag (Windows' value,
  0x8000, stripped before the real call) and translates every write through a
  descriptor opened without it, and every text-mode write without ``newline=``.
* **Sharing violations.** A rename over a file another process holds open (a
  reader, an antivirus scan, Excel, Acrobat) fails with ``PermissionError``
  carrying ``winerror`` 32 (ERROR_SHARING_VIOLATION) or 5 (ERROR_ACCESS_DENIED),
  and so does renaming a folder while a file inside is open.
  :meth:`WindowsFiles.fail_first` makes the first N ``os.replace``/``os.rename``
  onto each path fail that way; :meth:`WindowsFiles.hold` makes every rename onto
  (or of a folder above) a path fail, as long as "the other program" holds it, and
  every deletion of it (``os.unlink``/``os.remove``: a file open without
  FILE_SHARE_DELETE, as an antivirus scan opens it, cannot be deleted).
"""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path

O_BINARY = 0x8000  # Windows' value of os.O_BINARY


class WindowsFiles:
    def __init__(self, monkeypatch) -> None:
        self.text_fds: set[int] = set()
        self.translated_writes = 0
        self.violations = 0
        self._fail_first = 0
        self._failed: dict[str, int] = {}
        self._held: set[Path] = set()
        self._mp = monkeypatch
        real_open, real_write, real_close = os.open, os.write, os.close
        real_replace, real_rename = os.replace, os.rename
        real_io_open = io.open

        def fake_open(path, flags, mode=0o777, *, dir_fd=None):
            binary = bool(flags & O_BINARY)
            fd = real_open(path, flags & ~O_BINARY, mode, dir_fd=dir_fd)
            if not binary and flags & (os.O_WRONLY | os.O_RDWR):
                self.text_fds.add(fd)
            else:
                self.text_fds.discard(fd)
            return fd

        def fake_write(fd, data):
            if fd in self.text_fds and b"\n" in bytes(data):
                self.translated_writes += 1
                real_write(fd, bytes(data).replace(b"\n", b"\r\n"))
                return len(data)
            return real_write(fd, data)

        def fake_close(fd):
            self.text_fds.discard(fd)
            return real_close(fd)

        def fake_io_open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None,
                         closefd=True, opener=None):
            if "b" not in mode and any(c in mode for c in "wax+") and newline is None:
                self.translated_writes += 1
                newline = "\r\n"  # what Windows' text mode writes for "\n"
            return real_io_open(file, mode, buffering, encoding, errors, newline, closefd, opener)

        def guarded(real):
            def move(src, dst, *args, **kwargs):
                self._check(Path(src), Path(dst))
                return real(src, dst, *args, **kwargs)
            return move

        monkeypatch.setattr(os, "O_BINARY", O_BINARY, raising=False)
        monkeypatch.setattr(os, "open", fake_open)
        monkeypatch.setattr(os, "write", fake_write)
        monkeypatch.setattr(os, "close", fake_close)
        monkeypatch.setattr(io, "open", fake_io_open)
        monkeypatch.setattr(builtins, "open", fake_io_open)
        def guarded_delete(real):
            def delete(path, *args, **kwargs):
                if Path(path).resolve() in self._held:
                    raise self._violation(Path(path).resolve(), 32)
                return real(path, *args, **kwargs)
            return delete

        monkeypatch.setattr(os, "replace", guarded(real_replace))
        monkeypatch.setattr(os, "rename", guarded(real_rename))
        monkeypatch.setattr(os, "unlink", guarded_delete(os.unlink))
        monkeypatch.setattr(os, "remove", guarded_delete(os.remove))

    # ------------------------------------------------------------ violations
    def fail_first(self, n: int) -> None:
        """The first ``n`` renames onto each destination fail as Windows fails them."""
        self._fail_first = n
        self._failed.clear()

    def hold(self, path: os.PathLike) -> None:
        """Another program opens ``path`` (and keeps it open until :meth:`release`)."""
        self._held.add(Path(path).resolve())

    def release(self, path: os.PathLike) -> None:
        self._held.discard(Path(path).resolve())

    def _violation(self, path: Path, winerror: int) -> PermissionError:
        self.violations += 1
        err = PermissionError(13, "The process cannot access the file because it is being used "
                                  "by another process" if winerror == 32 else "Access is denied",
                              str(path))
        err.winerror = winerror
        return err

    def _check(self, src: Path, dst: Path) -> None:
        src_r, dst_r = src.resolve(), dst.resolve()
        for held in self._held:
            # onto a held file, or moving the held file or a folder it is in
            if held == dst_r or held == src_r or src_r in held.parents:
                raise self._violation(held, 5 if held == dst_r else 32)
        if self._fail_first:
            key = str(dst_r)
            done = self._failed.get(key, 0)
            if done < self._fail_first:
                self._failed[key] = done + 1
                # alternate the two codes Windows gives for a held file
                raise self._violation(dst_r, 32 if done % 2 == 0 else 5)


def crlf_files(root: Path) -> list[Path]:
    """Files under ``root`` that hold a CR (what text mode would have left)."""
    return [p for p in sorted(root.rglob("*")) if p.is_file() and b"\r" in p.read_bytes()]
