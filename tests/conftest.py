"""Suite-wide network guard: no subprocess of any test may reach beyond 127.0.0.1.

Every crawl, `newsites` command or worker the tests start loads
``tests/support/netguard/sitecustomize.py`` (it is put on ``PYTHONPATH`` here), which
refuses and logs any connection or name lookup that is not local. After each test the
log must have gained nothing. Tests that provoke the guard on purpose point
``NEWSITES_NETGUARD_LOG`` at a file of their own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

NETGUARD_DIR = Path(__file__).resolve().parent / "support" / "netguard"


@pytest.fixture(scope="session", autouse=True)
def _network_guard_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    log = tmp_path_factory.mktemp("netguard") / "escapes.jsonl"
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "NEWSITES_NETGUARD_LOG")}
    paths = [str(NETGUARD_DIR), os.environ.get("PYTHONPATH", "")]
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    os.environ["NEWSITES_NETGUARD_LOG"] = str(log)
    yield log
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _no_network_escape(_network_guard_env: Path) -> Iterator[None]:
    log = _network_guard_env
    before = log.stat().st_size if log.exists() else 0
    yield
    if log.exists() and log.stat().st_size > before:
        with log.open("rb") as handle:
            handle.seek(before)
            escapes = [json.loads(line) for line in handle.read().splitlines() if line]
        pytest.fail(
            "a subprocess tried to reach the network beyond 127.0.0.1: "
            f"{[(e.get('kind'), e.get('target')) for e in escapes]}"
        )
