"""The model a request names (`model_name` / `model_version`), without a store read on the
hot path for the common case.

The rule is the core's (`bullpen.serving.active.requested`); this adapter only remembers
one kind of its answers: "this name means the serving model". That answer rests on facts
that do not change while the same model serves (a version's name is fixed at
registration), and the serving version is part of the key, so a promotion or rollback
starts afresh. Everything else (a pinned version, an error) asks the store every time:
those rest on statuses that move (a retired model may be re-warmed). Before this, the
design's load scenario (`POST /api/v1/predict {"game_id","model_name"}`) made one store
read per request, and that read capped the route at ~300 req/s on two cores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bullpen.cache.contract import ActiveModel
from bullpen.serving.active import requested

if TYPE_CHECKING:
    from online.deps import Services

MAX_REMEMBERED = 1024


class ModelChoices:
    def __init__(self) -> None:
        self._serving_names: set[tuple[str, str]] = set()  # (serving version, name)

    def names_serving(self, serving: ActiveModel, name: str) -> bool:
        """Whether `name` is already known to mean `serving` (the fast path's question)."""
        return (serving.model_version, name) in self._serving_names

    async def choose(
        self, svc: Services, serving: ActiveModel, name: str | None, version: str | None
    ) -> ActiveModel:
        remembered = version is None and name is not None
        if remembered and (serving.model_version, name) in self._serving_names:
            return serving
        chosen = await svc.store(requested, svc.engine, serving, name, version)
        if remembered and chosen == serving:
            if len(self._serving_names) >= MAX_REMEMBERED:
                self._serving_names.clear()  # old serving versions' entries: garbage
            self._serving_names.add((serving.model_version, name))  # type: ignore[arg-type]
        return chosen
