"""Game logs → games: scan the source, parse every file, load it into the store.

A bad file (corrupt zip, empty file, failed download) is reported in metadata
and logs and skipped; the good files still flow. Every date with games becomes a
partition of the serving assets (`assets.serving.partitions`). A bad line is quarantined by
the parser and stored with its reason.
"""

from collections.abc import Sequence

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, Output, asset

from assets.metadata import markdown_table
from assets.resources import GameLogSource, StoreResource
from assets.serving.partitions import add_game_dates
from bullpen.domain.gamelogs import QuarantinedLine
from bullpen.sources.gamelogs import SourceScan
from bullpen.sources.parsed import parse_scan
from bullpen.store import LoadSummary, count_games, load_parse_result

QUARANTINE_SAMPLE = 50


@asset(description="The Retrosheet game logs of the configured seasons, read and hashed.")
def gamelog_files(context: AssetExecutionContext, gamelogs: GameLogSource) -> Output[SourceScan]:
    scan = gamelogs.scan()
    for error in scan.errors:
        context.log.warning(f"game-log source error: {error}")
    missing = scan.missing(gamelogs.season_list())
    if missing:
        context.log.warning(f"no readable game log for seasons {missing}")
    if not scan.files:
        raise Failure(
            "no readable game log in the source",
            metadata={"source_errors": MetadataValue.json([str(e) for e in scan.errors])},
        )
    return Output(scan, metadata=_scan_metadata(scan, missing))


def _scan_metadata(scan: SourceScan, missing: list[int]) -> dict[str, MetadataValue]:
    return {
        "files": MetadataValue.int(len(scan.files)),
        "file_names": MetadataValue.json([f.name for f in scan.files]),
        "seasons": MetadataValue.json(scan.seasons),
        "missing_seasons": MetadataValue.json(missing),
        "sha256": MetadataValue.json({f.name: f.sha256 for f in scan.files}),
        "source_error_count": MetadataValue.int(len(scan.errors)),
        "source_errors": MetadataValue.json([str(e) for e in scan.errors]),
    }


@asset(description="Every valid game in the store; bad lines quarantined with their reason.")
def games(
    context: AssetExecutionContext, gamelog_files: SourceScan, store: StoreResource
) -> MaterializeResult:
    engine = store.engine()
    parsed = parse_scan(gamelog_files)
    loads: list[tuple[int, LoadSummary]] = []
    for item in parsed.files:
        # One transaction per file: a failure leaves earlier seasons loaded and
        # this one as it was; re-running upserts the same rows again.
        summary = load_parse_result(engine, item.file.name, item.result, item.file.sha256)
        context.log.info(
            f"{summary.source}: {summary.games} games ({summary.inserted} new, "
            f"{summary.updated} updated, {summary.deleted} removed), "
            f"{summary.quarantined} quarantined"
        )
        loads.append((item.file.season, summary))
    for line in parsed.quarantined[:QUARANTINE_SAMPLE]:
        context.log.warning(f"quarantined {line}")
    added = add_game_dates(context.instance, {g.date for g in parsed.games})
    metadata = _load_metadata(loads, parsed.quarantined, count_games(engine))
    metadata["game_dates_added"] = MetadataValue.int(len(added))
    return MaterializeResult(metadata=metadata)


def _load_metadata(
    loads: Sequence[tuple[int, LoadSummary]], quarantined: Sequence[QuarantinedLine], total: int
) -> dict[str, MetadataValue]:
    per_season = markdown_table(
        ["season", "source", "games", "new", "updated", "removed", "quarantined"],
        [
            (season, s.source, s.games, s.inserted, s.updated, s.deleted, s.quarantined)
            for season, s in loads
        ],
    )
    sample = markdown_table(
        ["file", "line", "reason"],
        [(q.source, q.line_number, q.reason) for q in quarantined[:QUARANTINE_SAMPLE]],
    )
    return {
        "games_loaded": MetadataValue.int(sum(s.games for _, s in loads)),
        "games_per_season": MetadataValue.json({str(season): s.games for season, s in loads}),
        "load_summary": MetadataValue.md(per_season),
        "store_total_games": MetadataValue.int(total),
        "quarantined": MetadataValue.int(len(quarantined)),
        "quarantine_sample": MetadataValue.md(
            f"First {min(len(quarantined), QUARANTINE_SAMPLE)} of {len(quarantined)}:\n\n{sample}"
        ),
    }
