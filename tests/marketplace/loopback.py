"""The loopback HTTP server the payment providers' stand-ins share (Stripe, WeChat Pay, Alipay)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def loopback_serve(handler: type[BaseHTTPRequestHandler], name: str) -> ThreadingHTTPServer:
    """Serve ``handler`` on 127.0.0.1 at a free port, from a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server


def loopback_stop(server: ThreadingHTTPServer | None) -> None:
    if server:
        server.shutdown()
        server.server_close()
