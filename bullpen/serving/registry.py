"""Registering trained models: the version scheme and idempotent registration.

Registration is idempotent: a model whose artifact is byte-identical to one
already registered (LightGBM here is seeded and deterministic) re-uses that
version, so re-materializing after no change in data replaces the entry
instead of piling up copies, and keeps the status its lifecycle gave it.
Which registered model serves is `bullpen.serving.active`'s decision.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import Engine

from bullpen.domain.model import WinModel
from bullpen.store import ModelEntry, list_models, merge_model_metrics, register_model

MODEL_NAME = "bullpen-win-probability"
# Kinds with nothing fitted to data: any window is unseen by them.
UNTRAINED_KINDS = frozenset({"elo"})


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
        # None: stamped now, so the latest materialization is the newest entry.
        created_at=None,
    )
    return register_model(engine, entry)


def add_metrics(engine: Engine, version: str, metrics: dict[str, Any]) -> None:
    """Merge `metrics` into a registered entry, keeping everything else (created_at too)."""
    merge_model_metrics(engine, version, metrics)


def trained_until(entry: ModelEntry) -> dt.date | None:
    """The first date the model did not train on (None: it trained on nothing).

    Models registered before hold-outs existed carry no `train_until`: they are
    taken to have trained through the end of their last season.
    """
    if entry.kind in UNTRAINED_KINDS:
        return None
    until = (entry.params or {}).get("train_until")
    if until:
        return dt.date.fromisoformat(str(until))
    return dt.date(entry.train_seasons_to + 1, 1, 1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
