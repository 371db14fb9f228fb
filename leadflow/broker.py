"""Sending work to the Celery broker from a request or a service."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def task_send(task: Any, *args: Any, countdown: float | None = None) -> bool:
    """Send `task` with `args`, never failing the caller. A send lost to a broker outage is
    logged and left to the sweep that owns that work (the rescore sweep, the job requeue, the
    webhook sweep): accepted work is delayed, not dropped. True if the broker took it."""
    try:
        task.apply_async(args, countdown=countdown)
    except Exception:
        logger.warning(
            "could not send %s%r; its sweep will pick the work up", task.name, args, exc_info=True
        )
        return False
    return True
