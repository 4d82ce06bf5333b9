# syntax=docker/dockerfile:1
# One image for the online tier (uvicorn), the Dagster user code (gRPC server,
# run and step pods) and the `bullpen` CLI (migrations, API keys, rollback).
#   docker build -t registry.example.com/bullpen/bullpen:0.1.0 .
# Both stages use the same base, pinned by version (add the digest in CI:
# python:3.11.9-slim-bookworm@sha256:...; it cannot be resolved offline here).

# ---- build: compilers live here only --------------------------------------
FROM python:3.11.9-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# build-essential for any dependency that ships no wheel for this platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install pip==24.3.1 setuptools==75.6.0 wheel==0.45.1
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY bullpen ./bullpen
COPY assets ./assets
COPY orchestration ./orchestration
COPY online ./online
# A regular (not editable) install: the runtime stage copies only /opt/venv. Every
# dependency at the version in requirements.lock, the same set CI tests and audits.
RUN pip install --constraint requirements.lock . \
 && python -m compileall -q /opt/venv/lib

# ---- runtime: no compiler, no source tree, not root -----------------------
FROM python:3.11.9-slim-bookworm AS runtime
# libgomp1: LightGBM's OpenMP runtime (its wheel does not bundle it).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 bullpen \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin bullpen \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/bullpen /var/lib/bullpen/dagster
COPY --from=build /opt/venv /opt/venv
# Writable places for a bare `docker run IMAGE`: the embedded SQLite store and
# downloads under /var/lib/bullpen (the package's own var/ is read-only site-packages),
# DAGSTER_HOME (a directory that exists: dagster refuses a missing one) unless the Helm
# chart sets its own, and HOME/MPLCONFIGDIR so matplotlib
# has a cache directory. Deployments set BULLPEN_DATABASE_URL to PostgreSQL.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/bullpen \
    MPLCONFIGDIR=/tmp/matplotlib \
    BULLPEN_DATABASE_URL=sqlite:////var/lib/bullpen/bullpen.db \
    BULLPEN_DOWNLOAD_DIR=/var/lib/bullpen/downloads \
    DAGSTER_HOME=/var/lib/bullpen/dagster
WORKDIR /app
COPY workspace.yaml ./
# Numeric, so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000 3030
# No HEALTHCHECK: Kubernetes ignores it; the manifests' probes (/health, /ready)
# do that job, and the same image also runs the Dagster gRPC server.
# The online tier by default; the Dagster chart runs `dagster api grpc ...` instead.
CMD ["uvicorn", "online.app:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "1"]
