"""A disk request queue whose disk fills up: for the scheduler's full-disk test.

``SCHEDULER_DISK_QUEUE = "tests.support.faulty_queue.FullDiskQueue"`` in a real
crawl. The first ``FULL_AFTER`` pushes (all queues of the run together) are written;
every later push raises ``OSError(ENOSPC)`` as ``write()`` does on a full disk.
"""

from __future__ import annotations

import errno
import os
from typing import Any

from scrapy.squeues import PickleFifoDiskQueue

FULL_AFTER = int(os.environ.get("NEWSITES_TEST_FULL_AFTER", "3"))
_pushes = 0


class FullDiskQueue(PickleFifoDiskQueue):  # type: ignore[misc,valid-type]
    def push(self, obj: Any) -> None:
        global _pushes
        _pushes += 1
        if _pushes > FULL_AFTER:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super().push(obj)
