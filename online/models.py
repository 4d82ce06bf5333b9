"""Models loaded for serving, cached per version, and resolving a requested model by name.

Artifacts are immutable per version, so a loaded model never needs reloading.
Which model serves, or answers a request naming one, is not decided here
(`bullpen.serving.active`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from bullpen.domain.model import WinModel
from bullpen.serving.active import ModelNotFound
from bullpen.serving.registry import trained_until
from bullpen.store import ModelEntry, get_model


class ModelCache:
    """Loaded models by version. Reading an artifact is a store call (callers bound it by
    the store's deadline); turning its bytes into a model is CPU work that is not, so a
    cold model on a busy machine is not taken for a dead store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._models: dict[str, WinModel] = {}
        self._trained_until: dict[str, dt.date | None] = {}

    def get(self, version: str) -> WinModel | None:
        return self._models.get(version)

    def fetch(self, version: str) -> ModelEntry:
        """Sync (DB read); call from a thread. ModelNotFound if not in the registry."""
        entry = get_model(self.engine, version)
        if entry is None:
            raise ModelNotFound(f"model {version!r} is not in the registry")
        return entry

    def add(self, entry: ModelEntry) -> WinModel:
        """Sync (CPU: deserializes the artifact); call from a thread."""
        # One LightGBM thread: on two cores the default pool causes ms spikes.
        model = WinModel.from_bytes(entry.artifact, threads=1)
        self._trained_until[entry.version] = trained_until(entry)
        self._models[entry.version] = model
        return model

    def trained_until(self, version: str) -> dt.date | None:
        """The first date `version` did not train on (load it first)."""
        return self._trained_until.get(version)
