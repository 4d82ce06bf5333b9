"""What gets materialized: thin Dagster adapters over the `bullpen` core, one module per stage.

The data's path is the reading order: `ingestion` (game logs → games),
`features`, `modeling` (training set, models, backtest) and `serving` (daily
as-of predictions). Values flow through the SQL store wherever it has a table
for them; the IO manager only carries what has none (the scanned files, the
training set, a day's schedule).

The asset modules (and `orchestration.resources`) do not use `from __future__
import annotations`: Dagster reads parameter annotations (config classes,
resources, inputs) when the asset is defined and cannot resolve them as strings.
"""
