"""One replayed day: publish, poll like a bettor, publish results, measure.

Simulated time runs from 08:00 US Eastern, compressed by `speed` (3600: an hour a
second). The day's schedule and starters, and the next week's schedule (a schedule is
known ahead), are published at 08:00; each scratch is corrected at a random time
before 11:00 and at least the latency budget before its first pitch; every game's first
pitch is 13:05 or 19:05; results are published at 23:30.
Between events the client polls every game and the day's slate on every API replica, as a
bettor's client would.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bullpen.domain.features import FEATURE_VERSION
from bullpen.domain.pitchers import PitcherIndex
from bullpen.domain.schedule import EASTERN
from bullpen.store import count_games, make_engine, read_features
from bullpen.store.live import read_pitchers, read_publications
from replay.world import Day, Season, Starter, choose_scratches, first_pitch, starters_csv

MORNING = dt.time(8, 0)
# Compressed time is not compressed latency: at 3600x a second of re-pricing is an hour
# of the simulated day. A scratch is corrected before 11:00 and at least the latency
# budget (DEADLINE_S of real time) before its game's first pitch, so "priced before first
# pitch" checks the budget, not the compression (a real scratch may come later; its
# latency is what is measured).
LAST_CORRECTION = dt.time(11, 0)
RESULTS = dt.time(23, 30)
DEADLINE_S = 5.0  # a published starter change must reach every replica within this
# A schedule is known days ahead (the starters are not): the coming week's games exist
# before their morning, as a promotion's warming of the coming days expects.
SCHEDULE_DAYS_AHEAD = 7
RESULTS_WAIT_S = 60.0
WARM_SETTLE_S = 2.0  # the last priced date is warmed just after its prices are published
POLL_PAUSE_S = 0.02


@dataclass
class DayReport:
    date: str
    games_scheduled: int
    games_postponed: int
    games_predicted_before_first_pitch: int
    starter_changes: int
    starter_change_to_served_p95_s: float | None
    stale_answers: int
    brier: float | None
    elo_brier: float | None
    change_latencies_s: list[float] = field(default_factory=list)
    answers: int = 0
    squared_errors: list[float] = field(default_factory=list, repr=False)
    elo_squared_errors: list[float] = field(default_factory=list, repr=False)


class Bettor:
    """Polls every replica; one HTTP client each."""

    def __init__(self, urls: list[str], key: str) -> None:
        self.clients = [httpx.Client(base_url=u, headers={"X-API-Key": key}, timeout=5.0)
                        for u in urls]  # fmt: skip
        self.answers = 0

    def game(self, replica: int, game_id: str) -> dict[str, Any] | None:
        return self._get(replica, f"/v1/games/{game_id}/prediction")

    def slate(self, replica: int, date: dt.date) -> dict[str, Any] | None:
        return self._get(replica, f"/v1/games?date={date.isoformat()}")

    def _get(self, replica: int, path: str) -> dict[str, Any] | None:
        self.answers += 1
        response = self.clients[replica].get(path)
        return response.json() if response.status_code == 200 else None

    def close(self) -> None:
        for client in self.clients:
            client.close()


class Clock:
    """Simulated Eastern time of the day from the wall clock, also written to `file` (UTC,
    ISO 8601): the live loop's publication times come from there (`bullpen.serving.clock`),
    so the scorecard compares them with simulated first pitches."""

    def __init__(self, date: dt.date, speed: float, file: Path) -> None:
        self.date, self.speed, self.file = date, speed, file
        self.started = time.monotonic()
        self.now()

    def now(self) -> dt.time:
        seconds = (time.monotonic() - self.started) * self.speed + _seconds(MORNING)
        local = _time(min(seconds, 86399))
        moment = dt.datetime.combine(self.date, local, tzinfo=EASTERN).astimezone(dt.UTC)
        publish(self.file.parent, self.file.name, moment.isoformat())
        return local

    def wait_until(self, at: dt.time, work: Callable[[], None]) -> None:
        while self.now() < at:
            work()


def publish(folder: Path, name: str, text: str) -> float:
    """Write atomically (a hidden name, then a rename): the sensor never reads half a file."""
    hidden = folder / f".{name}.part"
    hidden.write_text(text)
    hidden.rename(folder / name)
    return time.monotonic()


def play_day(
    deployment: Any, season: Season, date: dt.date, speed: float, rate: float,
    rng: random.Random, bettor: Bettor,
) -> DayReport:  # fmt: skip
    day = season.day(date)
    engine = make_engine(deployment.store_url)
    pitchers = read_pitchers(engine)
    index = PitcherIndex(pitchers)
    scratches = choose_scratches(day, rate, rng, _season_starters(pitchers, season.season))
    announced = {(s.game_id, s.side): s for s in day.starters()}
    for scratch in scratches:
        announced[(scratch.wrong.game_id, scratch.wrong.side)] = scratch.wrong
    moved = _moved(index, announced.values(), [s.right for s in scratches])
    clock = Clock(date, speed, deployment.clock_file)
    folder = deployment.feed_dir
    _publish_schedule(folder, day)
    publish(
        folder, f"starters-{date:%Y%m%d}-0800.csv", starters_csv(list(announced.values()), moved)
    )
    for ahead in range(1, SCHEDULE_DAYS_AHEAD + 1):  # the same file again: not re-applied
        _publish_schedule(folder, season.day(date + dt.timedelta(days=ahead)))
    poll = Poller(bettor, day, announced)
    corrections = sorted(
        (
            (_random_time(rng, MORNING, _last_correction(day, s.right.game_id, speed)), s)
            for s in scratches
        ),
        key=lambda item: item[0],
    )
    for i, (at, scratch) in enumerate(corrections):
        clock.wait_until(at, poll.round)
        name = f"starters-{date:%Y%m%d}-fix{i}.csv"
        poll.changed(scratch.right, publish(folder, name, starters_csv([scratch.right], moved)))
    pitches = sorted({first_pitch(g, day.played.get(g.game_id)) for g in day.scheduled})
    for at in pitches:
        clock.wait_until(at, poll.round)
        poll.first_pitch([g for g in day.scheduled
                          if first_pitch(g, day.played.get(g.game_id)) == at])  # fmt: skip
    clock.wait_until(RESULTS, lambda: time.sleep(POLL_PAUSE_S))
    _publish_results(deployment, engine, day)
    report = poll.report(engine)
    engine.dispose()
    return report


def publish_week_ahead(deployment: Any, season: Season, first: dt.date) -> None:
    """Before day one: the first week's schedule, applied and priced (each morning then adds
    one day), so day one's morning is not queued behind a week of pricing."""
    days = [season.day(first + dt.timedelta(days=i)) for i in range(SCHEDULE_DAYS_AHEAD + 1)]
    for day in days:
        _publish_schedule(deployment.feed_dir, day)
    wanted = {g.game_id for day in days for g in day.scheduled}  # postponed: never priced
    engine = make_engine(deployment.store_url)
    deadline = time.monotonic() + RESULTS_WAIT_S
    try:
        while not wanted <= set(read_publications(engine)["game_id"]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the first week's schedule not priced in {RESULTS_WAIT_S} s")
            time.sleep(0.2)
    finally:
        engine.dispose()
    time.sleep(WARM_SETTLE_S)


def _publish_schedule(folder: Path, day: Day) -> None:
    if day.scheduled or day.postponed:
        publish(folder, f"{day.date:%Y%m%d}-schedule.csv", day.schedule_csv())


def _publish_results(deployment: Any, engine: Any, day: Day) -> None:
    """The evening's game-log lines; waits until the store has them (the next morning's
    features need them)."""
    lines = day.results()
    if not lines:
        return
    before = count_games(engine)
    publish(deployment.feed_dir, f"gl{day.date:%Y%m%d}.txt", "\n".join(lines) + "\n")
    deadline = time.monotonic() + RESULTS_WAIT_S
    while count_games(engine) < before + len(lines):
        if time.monotonic() > deadline:
            raise TimeoutError(f"results of {day.date} not loaded within {RESULTS_WAIT_S} s")
        time.sleep(0.1)


class Poller:
    """What the bettor saw: answers, first-pitch prices, latencies and stale answers."""

    def __init__(self, bettor: Bettor, day: Day, announced: dict[tuple[str, str], Starter]):
        self.bettor, self.day = bettor, day
        self.announced = dict(announced)
        self.pending: dict[str, tuple[Starter, float]] = {}  # game id → (right, published at)
        self.settled: dict[str, tuple[str, float]] = {}  # game id → (scratched id, deadline)
        self.latencies: list[float] = []
        self.stale = 0
        self.priced: dict[str, float] = {}  # game id → p_home at first pitch
        self.replicas = len(bettor.clients)

    def changed(self, right: Starter, at: float) -> None:
        wrong = self.announced[(right.game_id, right.side)]
        self.announced[(right.game_id, right.side)] = right
        self.pending[right.game_id] = (right, at)
        self.settled[right.game_id] = (wrong.pitcher_id, at + DEADLINE_S)

    def round(self) -> None:
        """One poll of every game and the slate on every replica."""
        now = time.monotonic()
        seen: dict[str, set[str | None]] = {}
        for replica in range(self.replicas):
            for body in self._answers(replica):
                home = (body.get("starters") or {}).get("home") or {}
                seen.setdefault(body["game_id"], set()).add(home.get("id"))
        for game_id, ids in seen.items():
            scratched = self.settled.get(game_id)
            if scratched and now > scratched[1] and scratched[0] in ids:
                self.stale += 1
        for game_id, (right, at) in list(self.pending.items()):
            if seen.get(game_id) == {right.pitcher_id}:
                self.latencies.append(now - at)
                del self.pending[game_id]
        time.sleep(POLL_PAUSE_S)

    def _answers(self, replica: int) -> list[dict[str, Any]]:
        bodies = [self.bettor.game(replica, g.game_id) for g in self.day.scheduled]
        slate = self.bettor.slate(replica, self.day.date)
        return [b for b in bodies if b] + (slate["games"] if slate else [])

    def first_pitch(self, games: list[Any]) -> None:
        for game in games:
            body = self.bettor.game(0, game.game_id)
            if body and self._current(body):
                self.priced[game.game_id] = body["p_home"]

    def _current(self, body: dict[str, Any]) -> bool:
        """Priced with the starters announced now (both sides)."""
        starters = body.get("starters") or {}
        return all(
            (starters.get(side) or {}).get("id")
            == self.announced[(body["game_id"], side)].pitcher_id
            for side in ("home", "away")
            if (body["game_id"], side) in self.announced
        )

    def report(self, engine: Any) -> DayReport:
        sq, elo_sq = self._errors(engine)
        latencies = self.latencies + [DEADLINE_S * 10] * len(self.pending)  # never arrived
        return DayReport(
            date=self.day.date.isoformat(),
            games_scheduled=len(self.day.scheduled),
            games_postponed=len(self.day.postponed),
            games_predicted_before_first_pitch=len(self.priced),
            starter_changes=len(self.settled),
            starter_change_to_served_p95_s=_p95(latencies),
            stale_answers=self.stale,
            brier=_mean(sq),
            elo_brier=_mean(elo_sq),
            change_latencies_s=[round(x, 3) for x in latencies],
            answers=self.bettor.answers,
            squared_errors=sq,
            elo_squared_errors=elo_sq,
        )

    def _errors(self, engine: Any) -> tuple[list[float], list[float]]:
        if not self.priced:  # an off day (the All-Star break) or nothing priced
            return [], []
        features = read_features(engine, FEATURE_VERSION, game_ids=list(self.priced))
        elo = dict(zip(features["game_id"], features["elo_p_home"], strict=True))
        sq, elo_sq = [], []
        for game_id, p in self.priced.items():
            record = self.day.played.get(game_id)
            if record is None or record.home_score == record.away_score:
                continue
            y = 1.0 if record.home_score > record.away_score else 0.0
            sq.append((p - y) ** 2)
            if game_id in elo:
                elo_sq.append((float(elo[game_id]) - y) ** 2)
        return sq, elo_sq


def _season_starters(
    pitchers: list[tuple[str, str, str, dt.date]], season: int
) -> dict[str, list[tuple[str, str]]]:
    """Pitchers each team has started this season (the scratches' stand-ins)."""
    by_team: dict[str, list[tuple[str, str]]] = {}
    for pitcher, name, team, last in pitchers:
        if last.year == season:
            by_team.setdefault(team, []).append((pitcher, name))
    return by_team


def _moved(index: PitcherIndex, *groups: Any) -> set[str]:
    """Announced pitchers the store last saw with another team: trades, flagged as such."""
    moved = set()
    for group in groups:
        for s in group:
            seen = index.last_seen(s.pitcher_id)
            if seen is not None and seen.team != s.team:
                moved.add(s.pitcher_id)
    return moved


def _last_correction(day: Day, game_id: str, speed: float) -> dt.time:
    """11:00, or earlier: the latency budget (in simulated time) before the game's first
    pitch, never before the morning."""
    game = next(g for g in day.scheduled if g.game_id == game_id)
    pitch = _seconds(first_pitch(game, day.played.get(game_id)))
    latest = max(_seconds(MORNING), pitch - DEADLINE_S * speed)
    return _time(min(_seconds(LAST_CORRECTION), latest))


def _random_time(rng: random.Random, start: dt.time, end: dt.time) -> dt.time:
    return _time(rng.uniform(_seconds(start), _seconds(end)))


def _seconds(t: dt.time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second


def _time(seconds: float) -> dt.time:
    s = int(seconds)
    return dt.time(s // 3600, s % 3600 // 60, s % 60)


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=20, method="inclusive")[-1], 3)


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None
