from __future__ import annotations

import numpy as np
import pytest

from bullpen.domain.metrics import accuracy, brier, calibration_error, log_loss


def test_scores_of_known_values() -> None:
    y = np.array([1, 0, 1, 0])
    p = np.array([0.8, 0.3, 0.6, 0.55])
    assert brier(y, p) == pytest.approx((0.04 + 0.09 + 0.16 + 0.3025) / 4)
    assert log_loss(y, p) == pytest.approx(-np.mean(np.log([0.8, 0.7, 0.6, 0.45])))
    assert accuracy(y, p) == 0.75
    assert brier(y, np.full(4, 0.5)) == 0.25


def test_perfectly_calibrated_bins_have_zero_error() -> None:
    y = np.array([1, 0] * 50)
    assert calibration_error(y, np.full(100, 0.5)) == pytest.approx(0.0)
    assert calibration_error(y, np.full(100, 0.9)) == pytest.approx(0.4)
