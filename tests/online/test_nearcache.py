"""The in-process near-cache (`online.nearcache.NearCache`): a bounded LRU whose entries expire.

It sits in front of Redis on every request, so an entry outliving its TTL serves a stale
prediction, and a wrong eviction order drops the hottest keys first. Time is a fake clock
swapped into the module, so expiry is checked to the tick without sleeping.
"""

from __future__ import annotations

import pytest

from online import nearcache
from online.nearcache import NearCache


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    # Replace the module's `time`, not `time.monotonic` itself, which everything shares.
    monkeypatch.setattr(nearcache, "time", fake)
    return fake


def test_put_then_get_returns_the_value(clock: FakeClock) -> None:
    near: NearCache[bytes] = NearCache(max_entries=4, ttl=10.0)
    near.put("a", b"1")
    assert near.get("a") == b"1"
    assert near.get("missing") is None
    assert len(near) == 1


def test_put_replaces_an_existing_value(clock: FakeClock) -> None:
    near: NearCache[bytes] = NearCache(max_entries=4, ttl=10.0)
    near.put("a", b"1")
    near.put("a", b"2")
    assert near.get("a") == b"2"
    assert len(near) == 1


def test_oldest_entry_is_evicted_past_max_entries(clock: FakeClock) -> None:
    near: NearCache[str] = NearCache(max_entries=2, ttl=10.0)
    near.put("a", "A")
    near.put("b", "B")
    near.put("c", "C")
    assert near.get("a") is None
    assert (near.get("b"), near.get("c")) == ("B", "C")
    assert len(near) == 2


def test_get_makes_an_entry_most_recently_used(clock: FakeClock) -> None:
    near: NearCache[str] = NearCache(max_entries=2, ttl=10.0)
    near.put("a", "A")
    near.put("b", "B")
    assert near.get("a") == "A"
    near.put("c", "C")
    assert near.get("b") is None
    assert (near.get("a"), near.get("c")) == ("A", "C")


def test_re_put_makes_an_entry_most_recently_used(clock: FakeClock) -> None:
    near: NearCache[str] = NearCache(max_entries=2, ttl=10.0)
    near.put("a", "A")
    near.put("b", "B")
    near.put("a", "A2")
    near.put("c", "C")
    assert near.get("b") is None
    assert near.get("a") == "A2"


def test_entry_expires_after_ttl(clock: FakeClock) -> None:
    near: NearCache[str] = NearCache(max_entries=4, ttl=5.0)
    near.put("a", "A")
    clock.now += 5.0
    assert near.get("a") == "A"  # expiry is strict: alive at exactly ttl
    clock.now += 0.001
    assert near.get("a") is None
    assert len(near) == 0  # an expired entry found by get is dropped


def test_a_hit_does_not_extend_the_ttl(clock: FakeClock) -> None:
    near: NearCache[str] = NearCache(max_entries=4, ttl=5.0)
    near.put("a", "A")
    clock.now += 4.0
    assert near.get("a") == "A"
    clock.now += 2.0
    assert near.get("a") is None


def test_per_put_ttl_overrides_the_default(clock: FakeClock) -> None:
    near: NearCache[str] = NearCache(max_entries=4, ttl=5.0)
    near.put("short", "S", ttl=1.0)
    near.put("long", "L", ttl=60.0)
    near.put("default", "D")
    clock.now += 2.0
    assert near.get("short") is None
    assert near.get("default") == "D"
    clock.now += 10.0
    assert near.get("default") is None
    assert near.get("long") == "L"


def test_zero_ttl_put_expires_on_the_next_tick(clock: FakeClock) -> None:
    near: NearCache[str] = NearCache(max_entries=4, ttl=5.0)
    near.put("a", "A", ttl=0.0)
    clock.now += 0.001
    assert near.get("a") is None


@pytest.mark.parametrize("max_entries", [0, -1])
def test_non_positive_max_entries_stores_nothing(clock: FakeClock, max_entries: int) -> None:
    near: NearCache[str] = NearCache(max_entries=max_entries, ttl=5.0)
    near.put("a", "A")
    assert near.get("a") is None
    assert len(near) == 0


def test_pop_removes_one_key_and_ignores_missing_ones(clock: FakeClock) -> None:
    near: NearCache[str] = NearCache(max_entries=4, ttl=5.0)
    near.put("a", "A")
    near.put("b", "B")
    near.pop("a")
    near.pop("never-there")
    assert near.get("a") is None
    assert near.get("b") == "B"
    assert len(near) == 1


def test_clear_drops_everything(clock: FakeClock) -> None:
    near: NearCache[str] = NearCache(max_entries=4, ttl=5.0)
    near.put("a", "A")
    near.put("b", "B")
    near.clear()
    assert len(near) == 0
    assert near.get("a") is None
    near.put("c", "C")
    assert near.get("c") == "C"


def test_works_on_the_real_clock() -> None:
    near: NearCache[str] = NearCache(max_entries=4, ttl=60.0)
    near.put("a", "A")
    near.put("b", "B", ttl=-1.0)  # already expired
    assert near.get("a") == "A"
    assert near.get("b") is None
