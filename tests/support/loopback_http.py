"""A threaded HTTP server on 127.0.0.1 and a free port, for the fake feeds of the tests."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextlib.contextmanager
def serve_http(
    handler: type[BaseHTTPRequestHandler], on_stop: Callable[[], None] = lambda: None
) -> Iterator[str]:
    """Serve `handler` until the block ends; yields the base URL. `on_stop` runs first at
    the end (e.g. to wake handlers that are sleeping on purpose)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    host, port = httpd.server_address[:2]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        on_stop()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
