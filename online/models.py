"""The models being served: registry lookups and deserialised WinModels, cached per version."""

from __future__ import annotations

from sqlalchemy import Engine

from bullpen.cache import ActiveModel
from bullpen.features import FEATURE_VERSION
from bullpen.model import WinModel
from bullpen.store import ModelEntry, get_model, list_models


class ModelNotFound(LookupError):
    pass


class ModelCache:
    """Artifacts are immutable per version, so a loaded model never needs reloading."""

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
        return ActiveModel(match.version, feature_version_of(match))


def feature_version_of(entry: ModelEntry) -> str:
    if entry.feature_version:
        return entry.feature_version
    return WinModel.from_bytes(entry.artifact).feature_version or FEATURE_VERSION


def default_active(engine: Engine, version: str | None) -> ActiveModel | None:
    """No pointer in Redis: the configured version, else the newest active (or production) one."""
    entries = list_models(engine)
    if version is not None:
        entries = [e for e in entries if e.version == version]
    else:
        entries = [e for e in entries if e.status in ("active", "production")]
    return ActiveModel(entries[0].version, feature_version_of(entries[0])) if entries else None
