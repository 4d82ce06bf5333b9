"""bullpen: MLB win probabilities from Retrosheet game logs.

The domain core. Nothing in this package imports Dagster or FastAPI: the
`assets/`, `orchestration/` and `online/` layers are thin adapters over it.
"""

__version__ = "0.1.0"
