"""nginx in front of API replicas on loopback, as the original design deploys it.

`nginx(upstreams, method)` writes a config into a private prefix, starts Debian's nginx
in the foreground on a free loopback port and always stops it by PID. `method` is
`least_conn` (the design's choice) or `round_robin` (nginx's default). Each response
carries `X-Upstream: <address>`, so a load generator can count where requests went.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

from bench.loopback import free_port, stop_process, wait_until

METHODS = ("least_conn", "round_robin")

CONFIG = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    upstream api {{
        {method}
        {servers}
        keepalive 256;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def require_nginx() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None:
        raise RuntimeError("nginx not found: `bash scripts/tools nginx` installs Debian's")
    return found


def config(upstreams: Sequence[str], method: str, port: int, prefix: Path) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown balancing method {method!r}; one of {METHODS}")
    servers = "\n        ".join(
        f"server {url.removeprefix('http://')} max_fails=0;" for url in upstreams
    )
    directive = "least_conn;" if method == "least_conn" else ""
    return CONFIG.format(prefix=prefix, method=directive, servers=servers, port=port)


@contextlib.contextmanager
def nginx(upstreams: Sequence[str], method: str = "least_conn") -> Iterator[str]:
    """nginx balancing `upstreams` (loopback base URLs) until the block ends; yields its URL."""
    binary = require_nginx()
    prefix = Path(tempfile.mkdtemp(prefix="bullpen-nginx-"))
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(config(upstreams, method, port, prefix))
    proc = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until(lambda: _answers(url) or proc.poll() is not None, timeout=15):
            raise RuntimeError(f"nginx did not start on {url}")
        if proc.poll() is not None:
            log = (prefix / "error.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"nginx exited with {proc.returncode}: {log}")
        yield url
    finally:
        stop_process(proc)
        shutil.rmtree(prefix, ignore_errors=True)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
