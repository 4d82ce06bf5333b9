"""Game-log source: find, read and download Retrosheet game logs.

I/O only: directories, zip archives and URLs in, decoded `GameLogFile`s out.
Parsing the lines is `bullpen.domain.gamelogs`' job. A problem with one file (corrupt
archive, empty file, failed download) is collected in `SourceScan.errors`
instead of raised, so one bad season does not hide the good ones; the caller
decides how loudly to report it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from bullpen.sources.errors import SourceError

log = logging.getLogger(__name__)

# Retrosheet publishes latin-1 text (accented player and park names).
ENCODING = "latin-1"
# Names are matched whole, so `GL2022.TXT.bak` or `GL2022 (1).TXT` are not
# mistaken for a season's log; the 4 digits are the season.
_TXT_NAME = re.compile(r"gl(\d{4})\.txt", re.IGNORECASE)
_ZIP_NAME = re.compile(r"gl(\d{4})\.zip", re.IGNORECASE)
# What a damaged archive raises while being opened or read: bad headers or CRC,
# a broken deflate stream, an archive cut short, an unsupported method or
# encryption.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
# Statuses where the same request may well succeed a moment later.
_TRANSIENT_STATUSES = frozenset({408, 429})
_MAX_RETRY_WAIT = 60.0
# A season's game log is 1-3 MB. Nothing this large is one, and a zip member that
# expands past it (a zip bomb, or a header that lies) is cut off while it is read,
# never expanded into memory whole.
MAX_GAME_LOG_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


class GameLogSourceError(SourceError):
    """A game-log file that could not be found, read or downloaded.

    `name` is the file (`gl2022.zip`, `GL2021.TXT`, ...), `problem` what is wrong;
    `str()` gives `"name: problem"`.
    """

    @property
    def name(self) -> str:
        return self.where


@dataclass(frozen=True, slots=True)
class GameLogFile:
    """One season's game log, decoded.

    `name` says where the text came from (`GL2022.TXT` or
    `gl2022.zip:GL2022.TXT`); `sha256` is of the raw game-log bytes, so the same
    log gives the same digest whether read plain or from its archive.
    """

    name: str
    season: int
    text: str = field(repr=False)  # ~2 MB: keep it out of reprs and test output
    sha256: str

    @classmethod
    def from_bytes(cls, name: str, season: int, raw: bytes) -> GameLogFile:
        return cls(name, season, raw.decode(ENCODING), hashlib.sha256(raw).hexdigest())

    def lines(self) -> list[str]:
        """The lines of the log, without line endings.

        Splits on "\\n" only: `str.splitlines` would also split on U+0085, which
        is what latin-1 byte 0x85 decodes to.
        """
        lines = self.text.split("\n")
        if lines[-1] == "":  # the final newline (or empty text) leaves an empty piece
            lines.pop()
        return [line.removesuffix("\r") for line in lines]


@dataclass(slots=True)
class SourceScan:
    """The game logs that could be read, and what went wrong with the others."""

    files: list[GameLogFile] = field(default_factory=list)
    errors: list[GameLogSourceError] = field(default_factory=list)

    @property
    def seasons(self) -> list[int]:
        return [f.season for f in self.files]

    def missing(self, seasons: Iterable[int]) -> list[int]:
        """The requested seasons for which no game log was read."""
        return sorted(set(seasons) - set(self.seasons))


# --- reading a directory ---------------------------------------------------------


def read_directory(
    path: Path, seasons: Iterable[int] | None = None, *, max_bytes: int = MAX_GAME_LOG_BYTES
) -> SourceScan:
    """Read the `GL*.TXT` logs and `gl*.zip` archives in `path`, sorted by season.

    `seasons` limits the scan (None: every season found). When a season has
    both a TXT and a zip, the TXT wins (it is usually the extracted zip).
    Unreadable, corrupt or empty files become entries in `errors`; only a
    missing directory raises, since then there is nothing to scan at all.
    """
    path = Path(path)
    if not path.is_dir():
        problem = "is not a directory" if path.exists() else "directory does not exist"
        raise GameLogSourceError(str(path), problem)
    wanted = None if seasons is None else set(seasons)
    scan = SourceScan()
    for season, candidates in sorted(_candidates(path, wanted).items()):
        chosen = candidates[0]
        scan.errors.extend(_duplicates(chosen, candidates[1:], season))
        try:
            scan.files.append(_read_game_log(chosen, season, max_bytes))
        except GameLogSourceError as exc:
            scan.errors.append(exc)
    return scan


def _candidates(path: Path, wanted: set[int] | None) -> dict[int, list[Path]]:
    """Game-log files per season, best first: TXT before zip, then by name."""
    found: dict[int, list[Path]] = {}
    for entry in path.iterdir():
        match = _TXT_NAME.fullmatch(entry.name) or _ZIP_NAME.fullmatch(entry.name)
        if match is None or not entry.is_file():
            continue
        season = int(match.group(1))
        if wanted is None or season in wanted:
            found.setdefault(season, []).append(entry)
    for paths in found.values():
        paths.sort(key=lambda p: (not _is_txt(p), p.name))
    return found


def _duplicates(chosen: Path, others: list[Path], season: int) -> list[GameLogSourceError]:
    # A TXT next to its zip is expected; two TXTs (GL2022.TXT and gl2022.txt on a
    # case-sensitive disk) are not, and silently dropping one could hide an edit.
    return [
        GameLogSourceError(other.name, f"ignored: {chosen.name} is also the {season} game log")
        for other in others
        if _is_txt(other) == _is_txt(chosen)
    ]


def _is_txt(path: Path) -> bool:
    return path.suffix.lower() == ".txt"


def _read_game_log(path: Path, season: int, max_bytes: int) -> GameLogFile:
    if _is_txt(path):
        name, raw = path.name, _read(path, max_bytes)
    else:
        name, raw = _read_archive(path, season, max_bytes)
    if not raw.strip():
        raise GameLogSourceError(name, "file is empty")
    return GameLogFile.from_bytes(name, season, raw)


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        with path.open("rb") as handle:
            return _bounded(handle, path.name, max_bytes)
    except OSError as exc:
        raise GameLogSourceError(path.name, f"cannot read: {exc}") from exc


def _read_archive(path: Path, season: int, max_bytes: int) -> tuple[str, bytes]:
    """The season's game log inside a Retrosheet zip, as (`zip:member`, bytes)."""
    try:
        with zipfile.ZipFile(path) as archive:
            member = _game_log_member(archive, path.name, season)
            if archive.getinfo(member).file_size > max_bytes:
                raise GameLogSourceError(path.name, _too_large(member, max_bytes))
            with archive.open(member) as stream:  # the declared size may lie: count
                return f"{path.name}:{member}", _bounded(stream, path.name, max_bytes)
    except OSError as exc:
        raise GameLogSourceError(path.name, f"cannot read: {exc}") from exc
    except _ZIP_ERRORS as exc:
        raise GameLogSourceError(path.name, f"corrupt archive: {exc}") from exc


def _bounded(stream: BinaryIO, name: str, max_bytes: int) -> bytes:
    """All of `stream`, read in chunks; GameLogSourceError past `max_bytes`."""
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(min(_CHUNK, max_bytes + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise GameLogSourceError(name, _too_large(name, max_bytes))
    return b"".join(chunks)


def _too_large(what: str, max_bytes: int) -> str:
    return f"{what} is larger than {max_bytes} bytes: not a game log (limit: max_bytes)"


def _game_log_member(archive: zipfile.ZipFile, name: str, season: int) -> str:
    logs: dict[str, int] = {}
    for info in archive.infolist():
        match = _TXT_NAME.fullmatch(posixpath.basename(info.filename))
        if match and not info.is_dir():
            logs[info.filename] = int(match.group(1))
    if not logs:
        raise GameLogSourceError(name, "archive holds no GL*.TXT game log")
    for member, member_season in sorted(logs.items()):
        if member_season == season:
            return member
    held = ", ".join(sorted(logs))
    raise GameLogSourceError(name, f"archive holds {held}, not the {season} game log")


# --- downloading -----------------------------------------------------------------


class _TransientError(Exception):
    """A failed attempt worth repeating: the next one may well succeed."""


def download_gamelogs(
    base_url: str,
    seasons: Iterable[int],
    dest: Path,
    *,
    client: httpx.Client | None = None,
    timeout: float = 30.0,
    attempts: int = 3,
    retry_wait: float = 1.0,
) -> SourceScan:
    """Download `{base_url}/gl{season}.zip` into `dest`, then read `dest`.

    An archive already in `dest` that passes `testzip()` is not fetched again.
    Connection errors, 5xx/408/429 and truncated bodies are retried up to
    `attempts` times, waiting `retry_wait` seconds, then twice that, and so on.
    A download only replaces `dest/gl{season}.zip` once complete and verified,
    so `dest` never holds a partial archive. `timeout` applies to every request,
    also on a given `client` (which is left open).
    """
    wanted = sorted(set(seasons))
    dest = Path(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GameLogSourceError(str(dest), f"cannot create download directory: {exc}") from exc
    errors: list[GameLogSourceError] = []
    http = client if client is not None else httpx.Client(follow_redirects=True)
    try:
        downloader = _Downloader(http, base_url, dest, timeout, attempts, retry_wait)
        for season in wanted:
            try:
                downloader.download(season)
            except GameLogSourceError as exc:
                errors.append(exc)
    finally:
        if client is None:
            http.close()
    scan = read_directory(dest, wanted)
    return SourceScan(scan.files, errors + scan.errors)


@dataclass(frozen=True, slots=True)
class _Downloader:
    """Fetches one season's archive at a time into `dest`, with retries."""

    client: httpx.Client
    base_url: str
    dest: Path
    timeout: float
    attempts: int
    retry_wait: float

    def download(self, season: int) -> None:
        name = f"gl{season}.zip"
        target = self.dest / name
        url = f"{self.base_url.rstrip('/')}/{name}"
        try:
            if self._cached(target):
                return
            log.info("downloading %s", url)
            self._retrying()(_fetch, self.client, url, target, self.timeout)
        except _TransientError as exc:
            problem = f"download from {url} failed after {self.attempts} attempts"
            raise GameLogSourceError(name, f"{problem}: {exc}") from exc
        except OSError as exc:  # disk full, permissions: retrying would not help
            raise GameLogSourceError(name, f"cannot save download in {self.dest}: {exc}") from exc

    @staticmethod
    def _cached(target: Path) -> bool:
        if not target.exists():
            return False
        if _is_valid_zip(target):
            log.debug("%s: already downloaded", target)
            return True
        # The cache holds only verified archives; a bad one is fetched again.
        log.warning("%s: cached archive is corrupt, downloading it again", target)
        target.unlink()
        return False

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.retry_wait, max=_MAX_RETRY_WAIT),
            retry=retry_if_exception_type(_TransientError),
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        )


def _fetch(client: httpx.Client, url: str, target: Path, timeout: float) -> None:
    """One attempt: stream to a temp file next to `target`, verify, then rename.

    The temp file lives in the same directory so `os.replace` is an atomic
    rename; it is removed whatever happens.
    """
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _stream(client, url, out, target.name, timeout)
        _verify_archive(temp, target.name)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def _stream(client: httpx.Client, url: str, out: BinaryIO, name: str, timeout: float) -> None:
    try:
        with client.stream("GET", url, timeout=timeout) as response:
            _check_status(response, name, url)
            for chunk in response.iter_bytes():
                out.write(chunk)
            _check_length(response)
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:  # a bad URL stays bad
        raise GameLogSourceError(name, f"cannot fetch {url}: {exc}") from exc
    except httpx.TransportError as exc:  # refused, reset, timed out, closed mid-body
        raise _TransientError(f"{type(exc).__name__}: {exc}") from exc
    except httpx.RequestError as exc:  # too many redirects, undecodable body
        raise GameLogSourceError(name, f"cannot fetch {url}: {exc}") from exc


def _check_status(response: httpx.Response, name: str, url: str) -> None:
    status = response.status_code
    if status == 404:
        raise GameLogSourceError(name, f"not found at {url}")
    if status >= 500 or status in _TRANSIENT_STATUSES:
        raise _TransientError(f"HTTP {status} from {url}")
    if not response.is_success:
        raise GameLogSourceError(name, f"HTTP {status} from {url}")


def _check_length(response: httpx.Response) -> None:
    # httpx usually notices a short body itself; this also covers transports
    # that do not. Counts bytes on the wire, as Content-Length does.
    expected = response.headers.get("Content-Length", "")
    received = response.num_bytes_downloaded
    if expected.isdigit() and received != int(expected):
        raise _TransientError(f"truncated body: received {received} of {expected} bytes")


def _verify_archive(path: Path, name: str) -> None:
    # A complete body can still be wrong (an HTML error page, a broken upload);
    # fetching it again would give the same bytes, so this is not retried.
    try:
        with zipfile.ZipFile(path) as archive:
            bad_member = archive.testzip()
    except _ZIP_ERRORS as exc:
        raise GameLogSourceError(name, f"download is not a zip archive: {exc}") from exc
    if bad_member is not None:
        raise GameLogSourceError(name, f"downloaded archive is corrupt: bad CRC in {bad_member}")


def _is_valid_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (*_ZIP_ERRORS, OSError):
        return False
