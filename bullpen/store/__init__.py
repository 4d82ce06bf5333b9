"""The app store: SQL tables, migrations and the functions that read and write them.

SQLite by default, PostgreSQL in production; callers use `make_engine`, run
`upgrade` once at start-up, then the repository functions below.
"""

# Declare the api_keys (0002), model_audit/model_aliases (0003) and live (0005) tables on
# Base.metadata, so the metadata matches the migrations.
from bullpen.store import apikeys, live_schema, promotion_schema  # noqa: F401
from bullpen.store.engine import make_engine, normalize_url, session_factory
from bullpen.store.migrate import alembic_config, downgrade, upgrade
from bullpen.store.repository import (
    GAME_FRAME_COLUMNS,
    PREDICTION_COLUMNS,
    LoadSummary,
    ModelEntry,
    count_games,
    get_model,
    list_models,
    load_parse_result,
    merge_model_metrics,
    ping,
    read_feature_row,
    read_features,
    read_games,
    read_ingested_files,
    read_prediction_rows,
    read_predictions,
    read_quarantine,
    read_revision,
    read_teams,
    register_model,
    write_features,
    write_predictions,
)
from bullpen.store.schema import Base

__all__ = [
    "GAME_FRAME_COLUMNS",
    "PREDICTION_COLUMNS",
    "Base",
    "LoadSummary",
    "ModelEntry",
    "alembic_config",
    "count_games",
    "downgrade",
    "get_model",
    "list_models",
    "load_parse_result",
    "make_engine",
    "merge_model_metrics",
    "normalize_url",
    "ping",
    "read_feature_row",
    "read_features",
    "read_games",
    "read_ingested_files",
    "read_prediction_rows",
    "read_predictions",
    "read_quarantine",
    "read_revision",
    "read_teams",
    "register_model",
    "session_factory",
    "upgrade",
    "write_features",
    "write_predictions",
]
