"""The season replay: the outside world of a past season, simulated end to end.

A tool beside the core, like `bench/` and `loadtest/`: it starts a private stack
(store, Redis, the Dagster daemon with the live sensors, API processes) and plays
the season forward day by day through the live loop's feed folder (`bullpen replay`).
"""
