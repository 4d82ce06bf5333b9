"""Compiled trees score exactly as LightGBM does (to 1e-6) on a real trained blend.

The blend is trained by `bullpen.domain.model` on real seasons (`bench.inference.train`), then
its booster is compiled by lleaves (LLVM); raw scores on real feature rows, and copies
with missing values, must match LightGBM's, and so must the whole blend's probabilities
when its booster is the compiled one. (TL2cgen 1.0 was measured off by up to 2.7e-3
on the same rows, see PERFORMANCE.md, and is not used.)
"""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from bench.inference import TOLERANCE, compile_lleaves, train, with_compiled
from bullpen.domain.model import WinModel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(gamelogs_dir: Path) -> tuple[WinModel, np.ndarray]:
    model, x = train()
    # Real rows, plus copies with holes: missing values must follow the same branches.
    holes = x[:300].copy()
    holes.flat[::7] = np.nan
    return model, np.vstack([x, holes])


def test_lleaves_matches_lightgbm(trained: tuple[WinModel, np.ndarray], tmp_path: Path) -> None:
    pytest.importorskip("lleaves")
    model, x = trained
    compiled = compile_lleaves(model.booster_text or "", tmp_path)
    booster = lgb.Booster(model_str=model.booster_text)
    expected = booster.predict(x, raw_score=True)
    np.testing.assert_allclose(compiled.predict(x, n_jobs=1), expected, rtol=0, atol=TOLERANCE)
    for row in x[:50]:  # one row at a time, as the online path scores
        single = compiled.predict(row[None, :], n_jobs=1)
        reference = booster.predict(row[None, :], raw_score=True)
        np.testing.assert_allclose(single, reference, rtol=0, atol=TOLERANCE)
    blend = with_compiled(model, compiled)
    np.testing.assert_allclose(blend.predict(x), model.predict(x), rtol=0, atol=TOLERANCE)
