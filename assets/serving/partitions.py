"""The daily partitions: one per game date, on MLB's clock (US Eastern)."""

from dagster import DailyPartitionsDefinition

# end_offset=1 adds today's partition: a schedule built from a daily job
# otherwise targets the last *completed* day, i.e. yesterday's games.
daily_partitions = DailyPartitionsDefinition(
    start_date="2000-03-01", end_offset=1, timezone="America/New_York"
)
