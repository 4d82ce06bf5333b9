"""`GET /v1/games/{id}/prediction?explain=true` end to end on real Redis and real stores.

The explanation adds up to the plain answer's p_home, is cached under a key of its own
that carries the date's inputs revision, never changes the plain bytes, and is never
answered by the fast path (which only holds plain bodies).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bullpen.cache.contract import explanation_key, game_date, prediction_key
from bullpen.domain.explain import BLEND_METHOD, ELO_METHOD, PLAIN_NAMES
from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION
from bullpen.domain.model import WinModel
from bullpen.serving.revisions import point
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import make_engine, read_features, read_revision, register_model
from bullpen.store import write_features as store_features
from online.fastpath import FastPath
from online.routes.predictions import DEFAULT_TOP
from tests.support.apps import Stack
from tests.support.data import BLEND_VERSION, MODEL_VERSION, fill_store, switch_to
from tests.support.promotion import entry_for

pytestmark = pytest.mark.integration
FIELDS = {
    "game_id", "date", "model_version", "feature_version", "inputs", "computed_at", "p_home",
    "base_logit", "method", "contributions", "other_logit", "cached",
}  # fmt: skip
ROUNDING = 1e-4  # the body's 6-place rounding of p_home and of each logit


@pytest.fixture
def blend(
    stack: Stack,
    tmp_path: Path,
    logs2022: ParsedLogs,
    features2022: pd.DataFrame,
    blend2022: WinModel,
) -> Stack:
    """A store of its own with the 2022 blend promoted (its registry and features change)."""
    stack = stack.on(fill_store(f"sqlite:///{tmp_path / 'explain.db'}", logs2022, features2022))
    engine = make_engine(stack.store.url)
    try:
        register_model(engine, entry_for(blend2022, BLEND_VERSION))
    finally:
        engine.dispose()
    switch_to(stack.store.url, stack.redis, BLEND_VERSION)
    return stack


def _get(client: TestClient, stack: Stack, game_id: str, query: str = "") -> Any:
    return client.get(f"/v1/games/{game_id}/prediction{query}", headers=stack.headers())


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _stored_features(stack: Stack, game_id: str) -> dict[str, float]:
    engine = make_engine(stack.store.url)
    try:
        frame = read_features(engine, FEATURE_VERSION, game_ids=[game_id])
    finally:
        engine.dispose()
    return frame.iloc[0][list(FEATURE_NAMES)].to_dict()


def _keys(stack: Stack, game_id: str) -> tuple[str, str]:
    """The blend's prediction and explanation keys of a game at the store's revision."""
    engine = make_engine(stack.store.url)
    try:
        revision = read_revision(engine, FEATURE_VERSION, game_date(game_id))
    finally:
        engine.dispose()
    return (
        prediction_key(BLEND_VERSION, FEATURE_VERSION, game_id, revision),
        explanation_key(BLEND_VERSION, FEATURE_VERSION, game_id, revision),
    )


def test_the_explanation_adds_up_to_the_plain_answer(blend: Stack) -> None:
    with TestClient(blend.app()) as client:
        for game_id in blend.store.game_ids[:3]:
            plain = _get(client, blend, game_id).json()
            answer = _get(client, blend, game_id, "?explain=true")
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert set(body) == FIELDS
            assert body["p_home"] == plain["p_home"]
            assert (body["game_id"], body["date"], body["inputs"]) == (
                game_id, plain["date"], plain["inputs"],
            )  # fmt: skip
            assert (body["model_version"], body["method"]) == (BLEND_VERSION, BLEND_METHOD)
            listed = body["contributions"]
            assert len(listed) == DEFAULT_TOP
            sizes = [abs(c["logit"]) for c in listed]
            assert sizes == sorted(sizes, reverse=True)
            total = body["base_logit"] + sum(c["logit"] for c in listed) + body["other_logit"]
            assert total == pytest.approx(_logit(body["p_home"]), abs=ROUNDING)
            stored = _stored_features(blend, game_id)
            for c in listed:
                assert c["name"] == PLAIN_NAMES[c["feature"]]
                assert c["value"] == pytest.approx(stored[c["feature"]], rel=1e-12)
                p_without = 1 / (1 + math.exp(c["logit"] - _logit(body["p_home"])))
                assert c["p_without"] == pytest.approx(p_without, abs=ROUNDING)

            three = _get(client, blend, game_id, "?explain=true&top=3").json()
            assert three["contributions"] == listed[:3]
            folded = body["other_logit"] + sum(c["logit"] for c in listed[3:])
            assert three["other_logit"] == pytest.approx(folded, abs=1e-9)
            every = _get(client, blend, game_id, f"?explain=true&top={len(FEATURE_NAMES)}")
            assert every.json()["other_logit"] == 0.0


def test_the_explanation_is_cached_apart_and_the_plain_bytes_never_change(blend: Stack) -> None:
    game_id = blend.store.game_ids[1]
    app = blend.app()
    with TestClient(app) as client:
        service = app.state.services.predictions
        _get(client, blend, game_id)  # computed, then near-cached
        plain = _get(client, blend, game_id).content
        computed = service.computations

        first = _get(client, blend, game_id, "?explain=true").json()
        assert first["cached"] is False and service.computations == computed + 1
        plain_key, key = _keys(blend, game_id)
        stored = json.loads(blend.redis.get(key))
        assert stored["cached"] is True and stored["other_logit"] == 0.0
        assert stored["contributions"][:DEFAULT_TOP] == first["contributions"]

        again = _get(client, blend, game_id, "?explain=true").json()
        fewer = _get(client, blend, game_id, "?explain=true&top=2").json()
        assert again == {**first, "cached": True}
        assert fewer["contributions"] == first["contributions"][:2]
        assert service.computations == computed + 1  # near-cache hits, one value for every top

        for query in ("", "?explain=false"):
            assert _get(client, blend, game_id, query).content == plain
        assert plain == blend.redis.get(plain_key)

    other = blend.app()  # another replica, cold: the explanation comes from Redis
    with TestClient(other) as client:
        assert _get(client, blend, game_id, "?explain=true").json() == {**first, "cached": True}
        assert other.state.services.predictions.computations == 0


def _fast_path(app: FastAPI) -> FastPath:
    layer = app.middleware_stack
    while not isinstance(layer, FastPath):
        layer = layer.app  # type: ignore[union-attr]
    return layer


def test_the_fast_path_hands_explain_requests_to_the_route(blend: Stack) -> None:
    game_id = blend.store.game_ids[2]
    app = blend.app(fast_path=True)
    with TestClient(app) as client:
        for _ in range(2):  # near-cache and key cache armed
            plain = _get(client, blend, game_id).content
        fast = _fast_path(app)
        served = fast.served
        assert _get(client, blend, game_id).content == plain
        assert fast.served == served + 1  # the plain hit is the fast path's

        explained = _get(client, blend, game_id, "?explain=true")
        assert explained.status_code == 200 and "contributions" in explained.json()
        assert _get(client, blend, game_id, "?explain=false").content == plain
        assert fast.served == served + 1  # neither query was answered there


def test_a_changed_input_changes_the_explanation_key(
    blend: Stack, features2022: pd.DataFrame
) -> None:
    game_id = blend.store.game_ids[0]
    feature = "diff_sp_k_rate"  # a logistic input: it always moves the answer
    every = f"?explain=true&top={len(FEATURE_NAMES)}"
    with TestClient(blend.app(pointer_poll_s=60)) as client:
        before = _get(client, blend, game_id, every).json()
        old_key = _keys(blend, game_id)[1]

        row = features2022[features2022["game_id"] == game_id].drop(columns=["inputs_hash"])
        engine = make_engine(blend.store.url)
        try:  # the features recomputed, e.g. after a scratch: a new inputs hash and revision
            store_features(engine, row.assign(**{feature: row[feature] + 0.05}), FEATURE_VERSION)
            day = game_date(game_id)
            revision = read_revision(engine, FEATURE_VERSION, day)
            point(blend.redis, FEATURE_VERSION, {day: revision}, 600)
        finally:
            engine.dispose()
        new_key = _keys(blend, game_id)[1]
        assert new_key != old_key

        deadline = time.monotonic() + 5
        after = before
        while after["inputs"] == before["inputs"] and time.monotonic() < deadline:
            time.sleep(0.02)  # the replica drops its revision when the change is published
            after = _get(client, blend, game_id, every).json()
        plain = _get(client, blend, game_id).json()

    assert after["inputs"] != before["inputs"] and after["cached"] is False
    assert blend.redis.get(new_key) is not None
    assert after["p_home"] == plain["p_home"] != before["p_home"]
    moved = {c["feature"]: c for c in after["contributions"]}[feature]
    was = {c["feature"]: c for c in before["contributions"]}[feature]
    assert moved["value"] == pytest.approx(was["value"] + 0.05)
    assert moved["logit"] != was["logit"]


def test_elo_unknown_games_bounds_and_docs(stack: Stack) -> None:
    game_id = stack.store.game_ids[0]
    with TestClient(stack.app()) as client:
        schema = client.get("/openapi.json").json()
        plain = _get(client, stack, game_id).json()
        body = _get(client, stack, game_id, "?explain=true").json()
        missing = [_get(client, stack, "NYA199904070", q) for q in ("", "?explain=true")]
        bounds = {top: _get(client, stack, game_id, f"?explain=true&top={top}").status_code
                  for top in (0, 1, len(FEATURE_NAMES), len(FEATURE_NAMES) + 1)}  # fmt: skip

    assert (body["model_version"], body["method"]) == (MODEL_VERSION, ELO_METHOD)
    assert body["p_home"] == plain["p_home"] and body["base_logit"] == 0.0
    [elo] = body["contributions"]  # Elo's answer is its probability: nothing else moves it
    assert elo["feature"] == "elo_p_home" and elo["p_without"] == 0.5
    assert elo["logit"] == pytest.approx(_logit(plain["p_home"]), abs=ROUNDING)
    assert [m.status_code for m in missing] == [404, 404]
    assert missing[0].json() == missing[1].json()
    assert bounds == {0: 422, 1: 200, len(FEATURE_NAMES): 200, len(FEATURE_NAMES) + 1: 422}
    route = schema["paths"]["/v1/games/{game_id}/prediction"]["get"]
    assert {p["name"] for p in route["parameters"]} >= {"explain", "top"}
    assert "ExplanationOut" in json.dumps(route["responses"]["200"])
