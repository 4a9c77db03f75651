"""A server holding thousands of sockets must not leave work for Python's garbage collector on
every event: its collections stop every screen while they run (docs/performance.md)."""

from __future__ import annotations

import gc
import types

from facilitator import capacity
from facilitator.store import live as store
from tests.factories import two_step_exercise
from tests.realtime_helpers import connect_display


def cyclic_garbage_of(work) -> list[str]:
    """The type names of the objects `work` left in reference cycles."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        work()
        gc.collect()
        return [name_of(found) for found in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def name_of(found: object) -> str:
    """A type's name, and a function's own (module and qualified name)."""
    if isinstance(found, types.FunctionType):
        return f"function {found.__module__}.{found.__qualname__}"
    return type(found).__qualname__


def test_a_socket_event_leaves_nothing_in_a_reference_cycle(app, therapist):
    live = store.open_session(therapist, two_step_exercise())
    display = connect_display(app, live)
    assert display.send("get_view")["ok"] is True  # the first event warms what is cached

    def twenty_events():
        for _ in range(20):
            assert display.send("get_view")["ok"] is True

    left = cyclic_garbage_of(twenty_events)

    # Other tests' threads may leave garbage of their own meanwhile: only what an event makes
    # counts. A request that matched no route left a NotFound; matching one, werkzeug's matcher
    # left a closure that calls itself.
    assert not {"RequestContext", "Request", "NotFound", "RequestRedirect"} & set(left)
    assert not [name for name in left if name.startswith("function werkzeug.routing")]


def test_the_server_sets_start_up_aside_and_collects_young_objects_less_often():
    before = gc.get_threshold()
    try:
        capacity.tune_garbage_collection()
        assert gc.get_threshold() == capacity.GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
