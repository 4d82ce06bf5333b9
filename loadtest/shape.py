"""Pure helpers of the locustfile (no Locust import): the phases' user counts, market odds."""

from __future__ import annotations

import math
import random


def phase_users(t: float, peak: int, up: float, hold: float, down: float) -> int | None:
    """Users wanted `t` seconds in: linear ramp up, the peak, linear ramp down, then None."""
    if t < up:
        return max(1, math.ceil(peak * t / up))
    if t < up + hold:
        return peak
    if t < up + hold + down:
        return max(0, math.ceil(peak * (1 - (t - up - hold) / down)))
    return None


def american_odds(rng: random.Random) -> tuple[float, float]:
    """A plausible two-way market: a favourite at -105…-250 and the dog priced near it."""
    favourite = -float(rng.randint(105, 250))
    dog = float(max(100, -favourite - rng.randint(5, 25)))
    return (favourite, dog) if rng.random() < 0.55 else (dog, favourite)
