"""Models loaded for serving, cached per version, and resolving a requested model by name.

Artifacts are immutable per version, so a loaded model never needs reloading.
Which model serves by default is not decided here (`bullpen.serving.active`).
"""

from __future__ import annotations

from sqlalchemy import Engine

from bullpen.cache.contract import ActiveModel
from bullpen.domain.model import WinModel
from bullpen.serving.active import pointer_of
from bullpen.store import get_model, list_models


class ModelNotFound(LookupError):
    pass


class ModelCache:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._models: dict[str, WinModel] = {}

    def load(self, version: str) -> WinModel:
        """Sync (DB read); call from a thread. ModelNotFound if not in the registry."""
        model = self._models.get(version)
        if model is None:
            entry = get_model(self.engine, version)
            if entry is None:
                raise ModelNotFound(f"model {version!r} is not in the registry")
            # One LightGBM thread: on two cores the default pool causes ms spikes.
            model = WinModel.from_bytes(entry.artifact, threads=1)
            self._models[version] = model
        return model

    def resolve(self, name_or_version: str) -> ActiveModel:
        """The registry entry named or versioned `name_or_version` (newest of a name)."""
        entries = list_models(self.engine)
        match = next((e for e in entries if e.version == name_or_version), None) or next(
            (e for e in entries if e.name == name_or_version), None
        )
        if match is None:
            raise ModelNotFound(f"no model named or versioned {name_or_version!r}")
        return pointer_of(match)
