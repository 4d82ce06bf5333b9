"""Probability scores used by backtests, registry entries and asset checks."""

from __future__ import annotations

import numpy as np

EPS = 1e-15


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, float) - np.asarray(y, float)) ** 2))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    y = np.asarray(y, float)
    p = np.clip(np.asarray(p, float), EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def accuracy(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p) > 0.5) == (np.asarray(y) > 0.5)))


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Equal-width probability bins: count, mean prediction, observed rate."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    idx = np.clip((p * bins).astype(int), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = idx == b
        if mask.any():
            row = {"bin": b, "count": int(mask.sum())}
            row |= {"mean_p": float(p[mask].mean()), "observed": float(y[mask].mean())}
            table.append(row)
    return table


def calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: count-weighted |mean prediction - observed rate|."""
    table = calibration_table(y, p, bins)
    total = sum(row["count"] for row in table)
    return float(sum(row["count"] * abs(row["mean_p"] - row["observed"]) for row in table) / total)


def score(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "brier": brier(y, p),
        "log_loss": log_loss(y, p),
        "accuracy": accuracy(y, p),
        "calibration_error": calibration_error(y, p),
        "games": float(len(y)),
    }
