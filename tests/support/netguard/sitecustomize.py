"""Test instrumentation for crawl subprocesses: a network guard and a memory probe.

Loaded by Python at start-up when this folder is on ``PYTHONPATH`` (the tests put it
there). Each part is off unless its environment variable is set:

``NEWSITES_NETGUARD_LOG=<file>``
    Every connection to anything but 127.0.0.1, and every name lookup of anything but
    ``localhost``, a numeric address or a name in ``NEWSITES_NETGUARD_HOSTS``, is
    refused before any packet leaves (``OSError``) and appended to ``<file>`` as one
    JSON line. The tests fail when the file is not empty.
``NEWSITES_NETGUARD_HOSTS=name=ip,name=ip``
    Fake name resolution, so tests can serve ``news.test`` from 127.0.0.1 and make
    ``evil.test`` resolve to a private address (which the crawler must refuse).
``NEWSITES_RUSAGE_FILE=<file>``
    At exit, append the peak RSS of this process and of its waited-for children.
``NEWSITES_MEMORY_LIMIT_MB=<n>``
    Cap this process's address space (soft ``RLIMIT_AS``) at ``n`` MiB.
``NEWSITES_FSIZE_LIMIT_BYTES=<n>``
    A "disk full" for files: writing past ``n`` bytes in any file fails with EFBIG
    (``RLIMIT_FSIZE``, with SIGXFSZ ignored so the write fails instead of killing).
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import socket
import sys
import traceback
from typing import Any

ALLOWED_IPS = {"127.0.0.1", "::ffff:127.0.0.1"}


def _numeric(host: str) -> bool:
    """True when ``host`` is an address the C library parses without a lookup."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return True
    except ValueError:
        pass
    try:
        socket.inet_aton(host)  # also "127.1", "2130706433", "0x7f.1"
        return True
    except OSError:
        return False


def _install_guard(log_path: str) -> None:
    fake: dict[str, str] = {"localhost": "127.0.0.1"}
    for pair in os.environ.get("NEWSITES_NETGUARD_HOSTS", "").split(","):
        name, _, ip = pair.partition("=")
        if name.strip() and ip.strip():
            fake[name.strip().lower()] = ip.strip()

    def record(kind: str, target: Any) -> None:
        entry = {
            "pid": os.getpid(),
            "kind": kind,
            "target": repr(target),
            "stack": traceback.format_stack(limit=12)[:-2],
        }
        with open(log_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")

    def refuse(kind: str, target: Any) -> OSError:
        record(kind, target)
        return PermissionError(f"netguard: {kind} {target!r} refused (offline tests)")

    def check_address(kind: str, family: int, address: Any) -> None:
        if family not in (socket.AF_INET, socket.AF_INET6):
            return  # AF_UNIX socketpairs (event loop wake-ups) are local
        host = address[0] if isinstance(address, tuple) else address
        if host not in ALLOWED_IPS:
            raise refuse(kind, address)

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto

    def connect(self: socket.socket, address: Any) -> None:
        check_address("connect", self.family, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check_address("connect", self.family, address)
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: bytes, *args: Any) -> int:
        if args:
            check_address("sendto", self.family, args[-1])
        return real_sendto(self, data, *args)  # type: ignore[arg-type]

    real_getaddrinfo = socket.getaddrinfo
    real_gethostbyname = socket.gethostbyname
    real_gethostbyname_ex = socket.gethostbyname_ex

    def lookup_name(host: Any) -> str | None:
        """The fake address of ``host``, None when numeric; raise when not allowed."""
        if host is None:
            return None
        name = host.decode() if isinstance(host, bytes) else str(host)
        if _numeric(name):
            return None
        if name.lower().rstrip(".") in fake:
            return fake[name.lower().rstrip(".")]
        record("lookup", name)
        why = f"netguard: lookup of {name!r} refused"
        raise socket.gaierror(socket.EAI_NONAME, why)

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        ip = lookup_name(host)
        return real_getaddrinfo(ip if ip is not None else host, port, *args, **kwargs)

    def gethostbyname(host: str) -> str:
        ip = lookup_name(host)
        return real_gethostbyname(ip if ip is not None else host)

    def gethostbyname_ex(host: str) -> Any:
        ip = lookup_name(host)
        if ip is not None:
            return (host, [], [ip])
        return real_gethostbyname_ex(host)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex


def _install_rusage(path: str) -> None:
    import resource

    def write() -> None:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        vm_peak_kb = 0
        try:
            with open("/proc/self/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmPeak:"):
                        vm_peak_kb = int(line.split()[1])
        except OSError:
            pass
        entry = {
            "vm_peak_kb": vm_peak_kb,
            "pid": os.getpid(),
            "ppid": os.getppid(),
            "argv": sys.argv[:3],
            "maxrss_kb": own,
            "children_maxrss_kb": children,
        }
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")

    atexit.register(write)


def _install_memory_limit(megabytes: str) -> None:
    import resource

    # The soft limit only: the extraction pool sets its workers' own limit, and
    # could not if the hard limit were lowered too.
    limit = int(megabytes) * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _install_fsize_limit(size: str) -> None:
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(size), int(size)))


if os.environ.get("NEWSITES_NETGUARD_LOG"):
    _install_guard(os.environ["NEWSITES_NETGUARD_LOG"])
if os.environ.get("NEWSITES_RUSAGE_FILE"):
    _install_rusage(os.environ["NEWSITES_RUSAGE_FILE"])
if os.environ.get("NEWSITES_MEMORY_LIMIT_MB"):
    _install_memory_limit(os.environ["NEWSITES_MEMORY_LIMIT_MB"])
if os.environ.get("NEWSITES_FSIZE_LIMIT_BYTES"):
    _install_fsize_limit(os.environ["NEWSITES_FSIZE_LIMIT_BYTES"])
