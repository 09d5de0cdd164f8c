"""The set of keys seen a moment ago (services/recent.py)."""

from __future__ import annotations

from dockyard.services.recent import Recent


def test_a_key_is_seen_for_ttl_seconds_after_it_was_added() -> None:
    now = [100.0]
    recent = Recent(ttl=2.0, clock=lambda: now[0])
    assert not recent.seen("a")
    recent.add("a")
    now[0] = 101.9
    assert recent.seen("a")
    assert not recent.seen("b")
    now[0] = 102.0
    assert not recent.seen("a")
    recent.add("a")  # added again: seen again
    assert recent.seen("a")


def test_it_holds_at_most_size_keys() -> None:
    recent = Recent(size=2)
    recent.add("a")
    recent.add("b")
    recent.add("c")  # full: starts over
    assert [recent.seen(k) for k in "abc"] == [False, False, True]
