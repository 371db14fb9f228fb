"""Figures kept beside the leads by apps above them (the dashboard's rollups in `analytics`),
told about every write that can change them, so that leads never imports those apps.

A writer wraps its change of some leads (a transition, a handoff answered, breached or
re-assigned) in `leads_changing(ids)`, inside its transaction and after it locked those leads;
each registered tracker sees the leads before and after and records the difference."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

Tracker = Callable[[list[int]], AbstractContextManager[None]]
_trackers: list[Tracker] = []


def tracker_register(tracker: Tracker) -> None:
    if tracker not in _trackers:
        _trackers.append(tracker)


@contextmanager
def leads_changing(lead_ids: Iterable[int]) -> Iterator[None]:
    ids = sorted(set(lead_ids))
    with ExitStack() as stack:
        for tracker in _trackers:
            stack.enter_context(tracker(ids))
        yield
