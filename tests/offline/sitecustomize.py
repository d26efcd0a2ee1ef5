"""No network in any process the tests start (issue 8: the desk works offline).

tests/conftest.py puts this folder first on PYTHONPATH, so every Python child
process (CLI runs, writer processes, the app in a pseudo-terminal) imports it
at start-up. Any attempt to reach an Internet address or to resolve a name is
refused as an unreachable network would be (a numeric loopback address is local
IPC, not network: on Windows ``socket.socketpair()``, and so asyncio's event
loop, connects two sockets over 127.0.0.1), and written to
$CSIRT_DESK_NET_LOG/<pid>.txt; the test that started the process then fails,
even if the code under test swallowed the error.
"""

import errno
import os
import socket
import traceback

_LOG = os.environ.get("CSIRT_DESK_NET_LOG")


def _refuse(what, address):
    if _LOG:
        try:
            with open(os.path.join(_LOG, f"{os.getpid()}.txt"), "a", encoding="utf-8") as f:
                f.write(f"{what} {address!r}\n{''.join(traceback.format_stack(limit=12))}\n")
        except OSError:
            pass
    raise OSError(errno.ENETUNREACH, f"network disabled in csirt-desk tests: {what} {address!r}")


if _LOG:
    _real_connect = socket.socket.connect
    _real_connect_ex = socket.socket.connect_ex
    _real_sendto = socket.socket.sendto

    def _loopback(address):
        import ipaddress

        try:  # numeric only: a name is never resolved here
            return ipaddress.ip_address(address[0]).is_loopback
        except (TypeError, ValueError, IndexError):
            return False

    def _inet(sock, address):
        return sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address)

    def connect(self, address, *a, **k):
        if _inet(self, address):
            _refuse("connect", address)
        return _real_connect(self, address, *a, **k)

    def connect_ex(self, address, *a, **k):
        if _inet(self, address):
            _refuse("connect_ex", address)
        return _real_connect_ex(self, address, *a, **k)

    def sendto(self, data, *a, **k):
        if _inet(self, a[-1] if a else None):
            _refuse("sendto", a[-1] if a else None)
        return _real_sendto(self, data, *a, **k)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
    socket.create_connection = lambda address, *a, **k: _refuse("create_connection", address)
    socket.getaddrinfo = lambda host, *a, **k: _refuse("getaddrinfo", host)
    socket.gethostbyname = lambda host: _refuse("gethostbyname", host)
