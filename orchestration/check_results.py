"""Reading asset-check *evaluations* from a Dagster instance (the promotion sensor's input).

No Dagster decorator reacts to check results, and a failed check does not fail
a run unless it is blocking; so the promotion sensor reads the latest
evaluation of each of the candidate's checks here and decides from those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dagster import AssetCheckKey, DagsterInstance

# The record's status is `AssetCheckExecutionRecordStatus`, which `dagster` does not
# export; its values are stable strings, so they are compared by value here, the one
# place that needs them.
DONE = frozenset({"SUCCEEDED", "FAILED"})


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
    return [_outcome(instance, key, storage_id, run_id, timestamp) for key in keys]


def _outcome(
    instance: DagsterInstance, key: AssetCheckKey, storage_id: int, run_id: str, timestamp: float
) -> Outcome:
    record = instance.get_latest_asset_check_evaluation_record(key)
    if record is None:
        return Outcome(key.name, "pending")
    if record.status.value in DONE and record.event is not None:
        evaluation = record.event.dagster_event.asset_check_evaluation_data  # type: ignore[union-attr]
        target = evaluation.target_materialization_data
        if target is None or target.storage_id != storage_id:
            return Outcome(key.name, "pending")
        if evaluation.passed:
            return Outcome(key.name, "passed", record_id=record.id)
        meta = evaluation.metadata.get("reasons")
        reasons = str(meta.value) if meta is not None else evaluation.description or ""
        return Outcome(key.name, "failed", reasons, record.id)
    # Planned only: errored if its run is over and it was meant for this materialization.
    run = instance.get_run_by_id(record.run_id)
    ours = record.run_id == run_id or record.create_timestamp >= timestamp
    if ours and run is not None and run.is_finished:
        return Outcome(key.name, "errored", f"did not complete in run {run.run_id}", record.id)
    return Outcome(key.name, "pending")
