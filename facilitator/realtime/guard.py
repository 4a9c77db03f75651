"""Refused traffic: counted and summed up in the log once in a while, never a traceback each."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

log = logging.getLogger(__name__)

SUMMARY_EVERY_SECONDS = 60.0


class RefusalLog:
    """Counts refusals by reason; logs the first at once, then one summary line a minute."""

    def __init__(self, every: float = SUMMARY_EVERY_SECONDS):
        self.every = every
        self.counts: Counter[str] = Counter()
        self.total: Counter[str] = Counter()
        self.last_logged = float("-inf")
        self.lock = threading.Lock()

    def count(self, reason: str) -> None:
        with self.lock:
            self.counts[reason] += 1
            self.total[reason] += 1
            now = time.monotonic()
            if now - self.last_logged < self.every:
                return
            summary = ", ".join(f"{n} {why}" for why, n in sorted(self.counts.items()))
            self.counts.clear()
            self.last_logged = now
        log.warning(
            "refused input: %s (refusals are summed up here at most once every %d s)",
            summary,
            self.every,
        )


refusals = RefusalLog()


def count_refusal(reason: str) -> None:
    refusals.count(reason)
