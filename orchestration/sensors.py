"""Sensors: the promotion gate, deciding from asset-check *evaluations* (not run status).

No Dagster decorator reacts to check results, and a failed check does not fail
a run unless it is blocking; so a plain sensor reads the latest evaluation of
each of the candidate's checks from the event log, and the promotion is a
separate job it launches (blocking does not reach across runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dagster import (
    AssetCheckKey,
    AssetKey,
    DagsterInstance,
    DefaultSensorStatus,
    JobDefinition,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

# Not re-exported by `dagster`; the status of the records the event log returns.
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from sqlalchemy import Engine

from assets.checks import CANDIDATE, CHECK_NAMES
from bullpen.promotion import REJECTABLE, SERVING, Status, active_version, reject, transition
from bullpen.store import get_model
from orchestration.jobs import promotion_job
from orchestration.resources import StoreResource

VERSION_TAG = "bullpen/model_version"
DONE = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}


@dataclass(frozen=True, slots=True)
class Outcome:
    """One check's verdict on one materialization of the candidate."""

    check: str
    state: str  # passed | failed | pending | errored
    reasons: str = ""
    record_id: int = 0


def check_outcomes(
    instance: DagsterInstance,
    keys: Sequence[AssetCheckKey],
    storage_id: int,
    run_id: str,
    timestamp: float,
) -> list[Outcome]:
    """The latest evaluation of each check, as it concerns materialization `storage_id`
    (made by run `run_id` at `timestamp`).

    An evaluation of an older materialization counts as pending (the checks of
    this one have not run yet); a check planned in a run that ended without
    evaluating it (the step raised) is `errored`.
    """
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(keys))
    outcomes = []
    for key in keys:
        record = records.get(key)
        if record is None:
            outcomes.append(Outcome(key.name, "pending"))
            continue
        if record.status in DONE and record.event is not None:
            evaluation = record.event.dagster_event.asset_check_evaluation_data  # type: ignore[union-attr]
            target = evaluation.target_materialization_data
            if target is None or target.storage_id != storage_id:
                outcomes.append(Outcome(key.name, "pending"))
            elif evaluation.passed:
                outcomes.append(Outcome(key.name, "passed", record_id=record.id))
            else:
                meta = evaluation.metadata.get("reasons")
                reasons = str(meta.value) if meta is not None else evaluation.description or ""
                outcomes.append(Outcome(key.name, "failed", reasons, record.id))
            continue
        # Planned only: errored if its run is over and it was meant for this materialization.
        run = instance.get_run_by_id(record.run_id)
        ours = record.run_id == run_id or record.create_timestamp >= timestamp
        if ours and run is not None and run.is_finished:
            reason = f"did not complete in run {run.run_id}"
            outcomes.append(Outcome(key.name, "errored", reason, record.id))
        else:
            outcomes.append(Outcome(key.name, "pending"))
    return outcomes


def build_promotion_sensor(
    job: JobDefinition,
    asset_key: AssetKey = CANDIDATE,
    check_names: Sequence[str] = CHECK_NAMES,
    name: str = "promotion_sensor",
    minimum_interval_seconds: int = 30,
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
        entry = get_model(engine, version)
        if entry is None:
            return SensorResult(skip_reason=f"{version} is not in the registry", cursor=decision)
        blue = active_version(engine) or "none"
        failed = [o for o in outcomes if o.state == "failed"]
        errored = [o for o in outcomes if o.state == "errored"]
        if failed:
            reasons = [f"{o.check}: {o.reasons}" for o in failed]
            if entry.status in REJECTABLE:
                reject(engine, version, actor, reasons)
            if entry.status in SERVING or entry.status == Status.RETIRED:
                # It has served: rejecting is an operator's call (bullpen rollback).
                verdict = f"{version} ({entry.status}) failed its checks"
            else:
                verdict = f"{version} rejected"
            note = f"{verdict} — {'; '.join(reasons)}. Blue {blue} stays active."
            context.log.info(note)
            return SensorResult(skip_reason=note, cursor=decision)
        if errored:
            names = ", ".join(f"{o.check} ({o.reasons})" for o in errored)
            skip = f"{version}: checks {names}; re-run them. Blue {blue} stays."
            return SensorResult(skip_reason=skip, cursor=decision)
        if entry.status == Status.REJECTED or entry.status in SERVING:
            skip = f"{version} passed its checks but is {entry.status}: nothing to promote"
            return SensorResult(skip_reason=skip, cursor=decision)
        if entry.status == Status.TRAINED:  # the checks' own bookkeeping did not get there
            transition(engine, version, Status.CHECKED, actor, "all checks passed")
        context.log.info(f"{version}: all checks passed; requesting {job.name}")
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

    return sensor(
        name=name,
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description=f"Launches {job.name} when every check of the newest "
        f"{asset_key.to_user_string()} passed; rejects it when one failed.",
    )(evaluate)


promotion_sensor = build_promotion_sensor(promotion_job)
