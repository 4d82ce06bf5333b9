"""What the fault suite shares: the fault table (one row per fault test, printed as one
table at the end of the session), the app it loads, its request and what a fault lost."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from bullpen.cache.writer import key_slot
from online.app import create_app
from online.config import OnlineSettings
from tests.support.apps import core_settings
from tests.support.data import StoreData
from tests.support.load import LoadReport

PREDICTION = "/v1/games/{}/prediction"


@dataclass
class FaultRow:
    """One line of the table printed at the end of the session."""

    fault: str
    sent: int | None
    failed: int | None
    longest_gap_s: float | None
    recover_s: float | None
    data_lost: int
    note: str = ""


FAULT_ROWS: list[FaultRow] = []


def _cell(value: object, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}{unit}"
    return f"{value}{unit}"


def format_table(rows: list[FaultRow]) -> list[str]:
    header = ("fault", "sent", "failed", "longest gap", "recover", "data lost", "notes")
    body = [
        (r.fault, _cell(r.sent), _cell(r.failed), _cell(r.longest_gap_s, " s"),
         _cell(r.recover_s, " s"), _cell(r.data_lost), r.note)
        for r in rows
    ]  # fmt: skip
    widths = [max(len(str(row[i])) for row in (header, *body)) for i in range(len(header))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return lines


def app_for(store: StoreData, redis_url: str, cluster: bool = False, **online: Any) -> FastAPI:
    """An app on `store` and `redis_url`, no rate limit in the way; `online`: web settings."""
    settings = OnlineSettings(
        migrate_on_start=False, rate_limit_per_s=1e6, rate_limit_burst=1_000_000,
        pointer_poll_s=0.5,
    ).model_copy(update=online)  # fmt: skip
    return create_app(core_settings(store.url, redis_url, cluster), settings)


def _content(raw: bytes | None) -> Any:
    """A cached body without `computed_at`: a recomputation of the same prediction is equal."""
    if raw is None:
        return None

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "computed_at"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(json.loads(raw))


def lost_keys(client: Any, entries: dict[str, bytes]) -> list[str]:
    """Warmed keys now missing or holding another prediction (pipelined by slot).

    A key the API rewrote with the same prediction computed again (it took a skipped
    Redis for a miss) is not lost; the bytes differ only in `computed_at`.
    """
    ordered = sorted(entries, key=lambda k: (key_slot(k), k))
    pipe = client.pipeline(transaction=False)
    for key in ordered:
        pipe.get(key)
    return [
        k for k, v in zip(ordered, pipe.execute(), strict=True)
        if _content(v) != _content(entries[k])
    ]  # fmt: skip


def summary(report: LoadReport) -> str:
    fallback = sum(s.ok and not s.full for s in report.samples)
    return (
        f"p99 {report.latency_percentile(0.99) * 1000:.0f} ms, "
        f"max {max(s.latency for s in report.samples) * 1000:.0f} ms, "
        f"{fallback} answered from the store"
    )


def prediction_request(client: Any, key: str, game_ids: list[str]) -> Any:
    headers = {"X-API-Key": key}

    async def request(i: int) -> tuple[int, bool]:
        response = await client.get(PREDICTION.format(game_ids[i % len(game_ids)]),
                                     headers=headers)  # fmt: skip
        # Full service = the warmed bytes from Redis (a computed answer says cached:false).
        return response.status_code, response.content.endswith(b'"cached":true}')

    return request
