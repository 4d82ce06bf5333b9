"""The gate through Dagster: blocking checks in an asset job (not `materialize()`, which does
not run checks), then the sensor reading their evaluations, then the promotion job."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import redis
from dagster import (
    AssetCheckKey,
    AssetSelection,
    DagsterInstance,
    Definitions,
    MetadataValue,
    Output,
    asset,
    build_sensor_context,
    define_asset_job,
    instance_for_test,
    load_asset_checks_from_modules,
)

from assets.modeling import checks, training
from assets.modeling.training import _register, training_set
from assets.resources import RedisResource, StoreResource
from bullpen.cache.contract import ActiveModel
from bullpen.domain.features import FEATURE_VERSION
from bullpen.domain.model import WinModel, train_blend
from bullpen.serving import active, lifecycle
from bullpen.serving.active import read_pointer
from bullpen.serving.warming import coming_days, coverage, keys_for_days, schedule
from bullpen.store import get_model, make_engine, register_model
from orchestration.definitions import defs
from orchestration.sensors import VERSION_TAG, build_promotion_sensor
from tests.support.promotion import (
    AS_OF,
    REDIS_URL,
    WARM_DAYS,
    entry_for,
    make_active,
    register_elo,
)

CHECK_KEYS = [AssetCheckKey(checks.CANDIDATE, name) for name in checks.CHECK_NAMES]


@asset(name="candidate_model", description="A deliberately bad candidate: shuffled labels.")
def shuffled_candidate(training_set: pd.DataFrame, store: StoreResource) -> Output[str]:
    rng = np.random.default_rng(7)
    shuffled = training_set.assign(y=rng.permutation(training_set["y"].to_numpy()))
    entry = _register(store, train_blend(shuffled), shuffled, {"shuffled_labels": True})
    return Output(entry.version, metadata={"version": MetadataValue.text(entry.version)})


def _candidate_defs(candidate: Any) -> Definitions:
    """training_set → candidate_model with the real blocking checks, in one asset job."""
    job = define_asset_job(
        "candidate_job", selection=AssetSelection.assets("training_set", "candidate_model")
    )
    return Definitions(
        assets=[training_set, candidate],
        asset_checks=load_asset_checks_from_modules([checks]),
        jobs=[job],
        resources=_resources("sqlite://"),  # replaced per run
    )


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as instance:  # persistent: sensor contexts refuse ephemeral ones
        yield instance


def _resources(store_url: str) -> dict[str, Any]:
    return {
        "store": StoreResource(database_url=store_url),
        "redis": RedisResource(redis_url=REDIS_URL),
    }


def _run_candidate(candidate: Any, store_url: str, instance: DagsterInstance) -> Any:
    job = _candidate_defs(candidate).resolve_job_def("candidate_job")
    return job.execute_in_process(
        instance=instance, resources=_resources(store_url), raise_on_error=False
    )


def _tick(sensor: Any, instance: DagsterInstance, store_url: str, cursor: str | None = None) -> Any:
    with build_sensor_context(instance, cursor=cursor, resources=_resources(store_url)) as context:
        return sensor.evaluate_tick(context)


def _evaluations(result: Any) -> dict[str, Any]:
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_bad_candidate_rejected_good_one_promoted(
    store_url: str, cache: redis.Redis, instance: DagsterInstance
) -> None:
    engine = make_engine(store_url)
    sensor = build_promotion_sensor(defs.resolve_job_def("promotion_job"))
    try:
        register_elo(engine, "elo-blue")
        make_active(engine, cache, "elo-blue")
        blue = ActiveModel("elo-blue", FEATURE_VERSION)

        # 1. Shuffled labels: the run fails on its blocking checks, the model is rejected.
        bad_run = _run_candidate(shuffled_candidate, store_url, instance)
        assert not bad_run.success
        evaluations = _evaluations(bad_run)
        assert set(evaluations) == set(checks.CHECK_NAMES)  # the job ran every check
        assert not evaluations["quality_vs_blue"].passed
        assert not evaluations["sanity"].passed
        assert evaluations["leakage_guard"].passed and evaluations["latency_budget"].passed
        assert all(e.blocking for e in evaluations.values())
        bad = bad_run.output_for_node("candidate_model")
        assert get_model(engine, bad).status == "rejected"
        reasons = " ".join(r.reason for r in lifecycle.audit_log(engine, bad))
        assert "brier" in reasons and "spread" in reasons

        tick = _tick(sensor, instance, store_url)
        assert not tick.run_requests
        assert f"{bad} rejected" in tick.skip_message
        assert "quality_vs_blue" in tick.skip_message and "sanity" in tick.skip_message
        assert "Blue elo-blue stays active" in tick.skip_message
        # Never served: blue is still what the store and Redis name.
        assert read_pointer(cache) == blue and active.promoted_version(engine) == "elo-blue"
        # ...and the promotion job refuses it outright.
        refused = defs.resolve_job_def("promotion_job").execute_in_process(
            run_config={"ops": {"warm_green": {"config": {"version": bad}}}},
            instance=instance, resources=_resources(store_url), raise_on_error=False,
        )  # fmt: skip
        assert not refused.success and read_pointer(cache) == blue

        # The same decision is not made twice.
        again = _tick(sensor, instance, store_url, tick.cursor)
        assert not again.run_requests and "already acted on" in again.skip_message

        # 2. The real candidate passes every check and the sensor requests the promotion.
        good_run = _run_candidate(training.candidate_model, store_url, instance)
        assert good_run.success
        assert all(e.passed for e in _evaluations(good_run).values())
        good = good_run.output_for_node("candidate_model")
        assert get_model(engine, good).status == "checked"
        tick = _tick(sensor, instance, store_url, tick.cursor)
        [request] = tick.run_requests
        assert request.job_name in (None, "promotion_job")
        assert request.tags[VERSION_TAG] == good
        assert request.run_config["ops"]["warm_green"]["config"]["version"] == good

        # 3. The requested run, as the daemon would launch it (with a replay date).
        config = request.run_config["ops"]["warm_green"]["config"]
        config |= {"as_of": AS_OF.isoformat(), "days": WARM_DAYS}
        run = defs.resolve_job_def("promotion_job").execute_in_process(
            run_config=request.run_config, instance=instance, resources=_resources(store_url),
            tags=request.tags,
        )  # fmt: skip
        assert run.success
        days = coming_days(AS_OF, WARM_DAYS)
        keys = keys_for_days(engine, ActiveModel(good, FEATURE_VERSION), days)
        assert len(schedule(engine, days)) > 30 and coverage(cache, keys).complete  # green warm
        assert read_pointer(cache) == ActiveModel(good, FEATURE_VERSION)
        assert active.aliases(engine) == {"blue": good, "green": "elo-blue"}
        assert get_model(engine, "elo-blue").status == "retired"
    finally:
        engine.dispose()


@asset(name="candidate_model", description="A candidate whose artifact cannot be read.")
def broken_candidate(store: StoreResource) -> Output[str]:
    entry = entry_for(WinModel(kind="elo"), "broken")
    entry.artifact = b"not a model"
    register_model(store.engine(), entry)
    return Output("broken", metadata={"version": MetadataValue.text("broken")})


def test_sensor_waits_then_names_checks_that_errored(
    store_url: str, cache: redis.Redis, instance: DagsterInstance
) -> None:
    sensor = build_promotion_sensor(defs.resolve_job_def("promotion_job"))
    first = _tick(sensor, instance, store_url)
    assert not first.run_requests and "no candidate_model materialization" in first.skip_message

    run = _run_candidate(broken_candidate, store_url, instance)
    assert not run.success  # three checks raised on the unreadable artifact
    tick = _tick(sensor, instance, store_url)
    assert not tick.run_requests
    for name in ("quality_vs_blue", "sanity", "latency_budget"):
        assert name in tick.skip_message
    assert "did not complete" in tick.skip_message and "re-run" in tick.skip_message
    engine = make_engine(store_url)
    try:
        assert get_model(engine, "broken").status == "trained"  # errors reject nothing
    finally:
        engine.dispose()
