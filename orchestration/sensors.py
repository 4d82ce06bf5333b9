"""Sensors: when something happens by itself. They decide; jobs and the core do the work.

`promotion_sensor` fires when every check of the newest `candidate_model`
materialization has an evaluation (`orchestration.check_results`), and hands
the verdict to the model's lifecycle (`bullpen.serving.lifecycle.settle_checks`:
reject on a failure, mark checked on a pass). It launches `promotion_job` only
when that says to promote.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster import (
    AssetCheckKey,
    AssetKey,
    DefaultSensorStatus,
    JobDefinition,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)
from sqlalchemy import Engine

from assets.modeling.checks import CANDIDATE, CHECK_NAMES
from assets.resources import StoreResource
from bullpen.serving.active import promoted_version
from bullpen.serving.lifecycle import settle_checks
from bullpen.settings import PromotionSettings
from orchestration.check_results import Outcome, check_outcomes
from orchestration.jobs import promotion_job

VERSION_TAG = "bullpen/model_version"


def build_promotion_sensor(
    job: JobDefinition,
    asset_key: AssetKey = CANDIDATE,
    check_names: Sequence[str] = CHECK_NAMES,
    name: str = "promotion_sensor",
    minimum_interval_seconds: int | None = None,
) -> SensorDefinition:
    """A sensor that promotes the newest candidate once its checks have all passed.

    It looks at the newest materialization of `asset_key` and the latest
    evaluation of each check in `check_names`, and decides once per set of
    evaluations (the cursor is `<materialization id>:<newest evaluation id>`):

    * all passed, model not serving nor rejected → RunRequest for `job`, the
      version in run config (`ops.warm_green.config.version`) and in the tag
      `bullpen/model_version`;
    * any failed → the model is rejected with the checks' reasons (audit log)
      and the tick is skipped naming them; blue stays active;
    * a check errored (its run ended without evaluating it) → skipped naming
      it, nothing changes; re-running the checks brings a new decision;
    * no materialization yet, a check not evaluated yet for the newest one, or
      this set of evaluations already decided → skipped, the cursor unchanged.
    """
    check_keys = [AssetCheckKey(asset_key, n) for n in check_names]
    actor = f"sensor:{name}"

    def evaluate(
        context: SensorEvaluationContext, store: StoreResource
    ) -> SensorResult | SkipReason:
        found = context.instance.fetch_materializations(asset_key, limit=1).records
        if not found:
            return SkipReason(f"no {asset_key.to_user_string()} materialization yet")
        record = found[0]
        materialization = record.event_log_entry.asset_materialization
        meta = materialization.metadata.get("version") if materialization else None
        if meta is None:
            return SkipReason(f"materialization {record.storage_id} carries no `version`")
        version = str(meta.value)
        outcomes = check_outcomes(
            context.instance, check_keys, record.storage_id, record.run_id, record.timestamp
        )
        waiting = [o.check for o in outcomes if o.state == "pending"]
        if waiting:
            return SkipReason(f"{version}: waiting for checks {', '.join(waiting)}")
        decision = f"{record.storage_id}:{max(o.record_id for o in outcomes)}"
        if decision == context.cursor:
            return SkipReason(f"{version}: these check results were already acted on")
        engine = store.engine()
        try:
            return decide(context, engine, version, outcomes, decision)
        finally:
            engine.dispose()  # a tick is short-lived; keep no pooled connections between ticks

    def decide(
        context: SensorEvaluationContext,
        engine: Engine,
        version: str,
        outcomes: list[Outcome],
        decision: str,
    ) -> SensorResult:
        blue = promoted_version(engine) or "none"
        errored = [o for o in outcomes if o.state == "errored"]
        failures = [f"{o.check}: {o.reasons}" for o in outcomes if o.state == "failed"]
        if errored and not failures:
            names = ", ".join(f"{o.check} ({o.reasons})" for o in errored)
            skip = f"{version}: checks {names}; re-run them. Blue {blue} stays."
            return SensorResult(skip_reason=skip, cursor=decision)
        verdict = settle_checks(engine, version, failures, actor)
        if not verdict.promote:
            note = f"{verdict.note}. Blue {blue} stays active." if failures else verdict.note
            context.log.info(note)
            return SensorResult(skip_reason=note, cursor=decision)
        context.log.info(f"{verdict.note}; requesting {job.name}")
        return SensorResult(
            run_requests=[
                RunRequest(
                    run_key=f"promote-{version}-{decision}",
                    run_config={"ops": {"warm_green": {"config": {"version": version}}}},
                    tags={VERSION_TAG: version},
                )
            ],
            cursor=decision,
        )

    interval = minimum_interval_seconds or PromotionSettings().sensor_interval_s
    return sensor(
        name=name,
        job=job,
        minimum_interval_seconds=interval,
        default_status=DefaultSensorStatus.RUNNING,
        description=f"Launches {job.name} when every check of the newest "
        f"{asset_key.to_user_string()} passed; rejects it when one failed.",
    )(evaluate)


promotion_sensor = build_promotion_sensor(promotion_job)
