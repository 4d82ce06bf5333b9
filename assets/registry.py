"""Model-registry plumbing shared by the modeling and serving assets.

Registration is idempotent: a model whose artifact is byte-identical to one
already registered (LightGBM here is seeded and deterministic) re-uses that
version, so re-materializing after no change in data replaces the entry
instead of piling up copies — and keeps a status a promotion may have set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace
from typing import Any

from dagster import Failure
from sqlalchemy import Engine

from bullpen.features import FEATURE_VERSION
from bullpen.model import WinModel
from bullpen.promotion import active_version
from bullpen.store import ModelEntry, list_models, register_model

MODEL_NAME = "bullpen-win-probability"
SERVING_KINDS = ("blend", "elo")  # preference order when picking a model to serve


def artifact_digest(artifact: bytes) -> str:
    return hashlib.sha256(artifact).hexdigest()


def new_version(kind: str, artifact: bytes, now: dt.datetime) -> str:
    """`<kind>-<utc yyyymmddHHMMSS>-<8 hex of the artifact's sha256>`."""
    return f"{kind}-{now.astimezone(dt.UTC):%Y%m%d%H%M%S}-{artifact_digest(artifact)[:8]}"


def same_artifact(engine: Engine, kind: str, artifact: bytes) -> ModelEntry | None:
    digest = artifact_digest(artifact)
    for entry in list_models(engine):
        if entry.kind == kind and artifact_digest(entry.artifact) == digest:
            return entry
    return None


def register(
    engine: Engine,
    model: WinModel,
    seasons: list[int],
    params: dict[str, Any],
    metrics: dict[str, Any],
) -> ModelEntry:
    """Register `model` trained on `seasons`; `metrics` are merged into any earlier ones."""
    artifact = model.to_bytes()
    existing = same_artifact(engine, model.kind, artifact)
    entry = ModelEntry(
        version=existing.version if existing else new_version(model.kind, artifact, _now()),
        name=MODEL_NAME,
        kind=model.kind,
        train_seasons_from=min(seasons),
        train_seasons_to=max(seasons),
        feature_version=model.feature_version,
        feature_names=list(model.feature_names),
        metrics={**(existing.metrics if existing else {}), **metrics},
        params=params,
        artifact=artifact,
        status=existing.status if existing else "trained",
        # None: stamped now, so the latest materialization is the newest entry.
        created_at=None,
    )
    return register_model(engine, entry)


def add_metrics(engine: Engine, entry: ModelEntry, metrics: dict[str, Any]) -> ModelEntry:
    """Merge `metrics` into a registered entry, keeping everything else (created_at too)."""
    return register_model(engine, replace(entry, metrics={**entry.metrics, **metrics}))


def serving_model(engine: Engine) -> ModelEntry:
    """The active (blue) model; before any promotion, the newest `blend`, else `elo`.

    Fails when none is registered, or when the chosen model was trained on a
    feature set other than the one this code computes: scoring it would
    silently feed columns that mean something else.
    """
    entries = list_models(engine)  # newest first
    # A candidate reaches users only through promotion: once there is a blue, it is served.
    blue = active_version(engine)
    candidates = [e for e in entries if e.version == blue] + [
        e for kind in SERVING_KINDS for e in entries if e.kind == kind and e.status != "rejected"
    ]
    chosen = candidates[0] if candidates else None
    if chosen is None:
        raise Failure("no blend or elo model in the registry: run batch_job first")
    if chosen.feature_version != FEATURE_VERSION:
        raise Failure(
            f"model {chosen.version} expects feature version {chosen.feature_version}, "
            f"but this code computes {FEATURE_VERSION}: retrain (run batch_job) before serving"
        )
    return chosen


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
