"""Resources: what the assets talk to, one per module, configured from `bullpen.settings`.

Assets declare them by type and never build a database URL, a path or a client
themselves, so a deployment swaps the store, the cache or the game-log source
by configuration alone (`orchestration/definitions.py` binds them). Defaults
come from the `BULLPEN_*` environment, read when the resource is built (when
the code location loads).

These modules (like the asset modules) do not use `from __future__ import
annotations`: Dagster reads field and parameter annotations at definition time.
"""

from assets.resources.cache import RedisResource
from assets.resources.feeds import LiveFeeds
from assets.resources.gamelogs import GameLogSource
from assets.resources.store import StoreResource

__all__ = ["GameLogSource", "LiveFeeds", "RedisResource", "StoreResource"]
