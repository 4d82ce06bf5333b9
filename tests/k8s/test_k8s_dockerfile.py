"""The Dockerfile, read statically (no Docker engine here to build it)."""

from __future__ import annotations

import re

from tests.support.k8s import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
BUILD_TOOLS = ("build-essential", "gcc", "g++", "make", "python3-dev", "libpq-dev")


def _stages() -> list[str]:
    return re.split(r"(?m)^FROM ", DOCKERFILE)[1:]


def test_multi_stage_with_a_pinned_slim_base() -> None:
    stages = _stages()
    assert len(stages) >= 2
    for stage in stages:
        image = stage.split()[0]
        assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", image), image


def test_final_stage_runs_as_non_root_without_build_tools() -> None:
    final = _stages()[-1]
    users = re.findall(r"(?m)^USER\s+(\S+)", final)
    assert users, "the final stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 10000, "numeric, high UID (runAsNonRoot can verify it)"
    installs = " ".join(re.findall(r"apt-get install[^\n]*(?:\\\n[^\n]*)*", final))
    for tool in BUILD_TOOLS:
        assert tool not in installs.split(), f"{tool} in the final stage"
    assert "COPY --from=build /opt/venv" in final
    assert "latest" not in DOCKERFILE


def test_dockerignore_keeps_the_context_small() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "tests", "var"} <= ignored


def test_a_bare_run_has_writable_defaults() -> None:
    """`docker run IMAGE` with no environment: the SQLite store, downloads, HOME and
    matplotlib's cache all point at places the non-root user may write."""
    final = _stages()[-1]
    env = dict(re.findall(r"(?m)^\s*(?:ENV\s+)?([A-Z_]+)=(\S+?)\s*\\?$", final))
    assert env["BULLPEN_DATABASE_URL"] == "sqlite:////var/lib/bullpen/bullpen.db"
    assert env["BULLPEN_DOWNLOAD_DIR"].startswith("/var/lib/bullpen/")
    assert env["HOME"] == "/var/lib/bullpen" and env["MPLCONFIGDIR"].startswith("/tmp/")
    assert "install -d -o 10001 -g 10001" in final and "/var/lib/bullpen" in final
