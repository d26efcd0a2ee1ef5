"""The guards that keep the test suite (and so the app under test) offline do work:
in this process, and in every child process the tests start."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from conftest import NET_LOG

ATTEMPT = """
import socket
try:
    socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: never routed
except OSError as err:
    print("refused:", err)
try:
    socket.getaddrinfo("example.invalid", 443)
except OSError as err:
    print("refused:", err)
"""


def test_this_process_cannot_connect():
    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(AssertionError):
            s.connect(("192.0.2.1", 80))
    finally:
        s.close()
    with pytest.raises(AssertionError, match="DNS"):
        socket.getaddrinfo("example.invalid", 443)


def test_a_child_process_cannot_connect_and_is_caught_even_if_it_swallows_the_error():
    out = subprocess.run([sys.executable, "-c", ATTEMPT], capture_output=True, text=True, encoding="utf-8",
                         errors="replace", timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("refused:") == 2  # the child saw an unreachable network …
    logs = sorted(NET_LOG.iterdir())
    text = "".join(p.read_text(encoding="utf-8") for p in logs)
    assert "create_connection ('192.0.2.1', 80)" in text and "getaddrinfo 'example.invalid'" in text
    for p in logs:  # … and the no_network fixture would fail this test: clear the log
        p.unlink()


def test_a_local_unix_socket_still_works():
    # Only Internet addresses are refused: local IPC is not network. (On Windows this pair is
    # two TCP sockets over 127.0.0.1: see the next test.)
    a, b = socket.socketpair()
    try:
        a.sendall(b"ok")
        assert b.recv(2) == b"ok"
    finally:
        a.close()
        b.close()


# How socket.socketpair() makes its pair where there is no AF_UNIX pair (Windows): a listener
# on 127.0.0.1 and a connect to it. asyncio's event loop makes one at start, so this must pass
# the guards or no Textual test could run on Windows.
LOOPBACK_PAIR = """
import socket
lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lsock.bind(("127.0.0.1", 0))
lsock.listen()
csock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
csock.connect(lsock.getsockname())
ssock, _ = lsock.accept()
csock.sendall(b"ok")
print(ssock.recv(2).decode())
for s in (lsock, csock, ssock):
    s.close()
try:
    socket.create_connection(("localhost", 80), timeout=1)  # a name: refused, never resolved
except OSError as err:
    print("refused:", err)
"""


def test_a_loopback_pair_still_works_here_and_in_a_child():
    exec(LOOPBACK_PAIR.split("try:")[0], {})  # this process: no AssertionError
    out = subprocess.run([sys.executable, "-c", LOOPBACK_PAIR], capture_output=True, text=True,
                         encoding="utf-8", errors="replace", timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "ok" and "refused:" in out.stdout
    logs = sorted(NET_LOG.iterdir())
    text = "".join(p.read_text(encoding="utf-8") for p in logs)
    assert "('localhost', 80)" in text and "127.0.0.1" not in text
    for p in logs:  # the refusal was expected: clear the log
        p.unlink()
    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("localhost", 80), timeout=1)
