"""What gets materialized: thin Dagster adapters over the `bullpen` core, one folder per group.

The folders are the Dagster UI's asset groups, in the data's order:
`ingestion` (game logs → games), `features`, `modeling` (training set,
models, their checks, backtest) and `serving` (daily as-of predictions and the
cache). `promotion` holds the promotion job's ops, `resources` what every
asset talks to. Values flow through the SQL store wherever it has a table for
them; the IO manager only carries what has none (the scanned files, the
training set, a day's schedule).

Import direction: `orchestration` → `assets` → `bullpen`; nothing here imports
`orchestration`.

The asset modules do not use `from __future__ import annotations`: Dagster
reads parameter annotations (config classes, resources, inputs) when the
asset is defined and cannot resolve them as strings.
"""
