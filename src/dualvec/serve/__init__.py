"""``dualvec serve``: a local web explorer of the two spaces and of DESM.

:func:`create_app` builds the ASGI app (FastAPI: the JSON API under ``/api``,
the page at ``/``, its assets shipped in the package, nothing fetched from a
CDN); :func:`serve` runs it on uvicorn, bound to 127.0.0.1 by default.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from ..errors import DualvecError
from ..model import DualVectors
from ..ranking import Ranker
from .api import MAX_TOPN, Explorer, create_app


def serve(model: DualVectors | str | os.PathLike, index: Ranker | str | os.PathLike | None = None, *,
          host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning",
          sock: socket.socket | None = None) -> None:
    """Run the explorer until interrupted. ``model`` and ``index`` may be paths (memory-mapped).
    ``sock``: a socket already bound (:func:`listening_socket`), else ``host:port`` is bound first."""
    import uvicorn
    from threadpoolctl import threadpool_limits

    from ..formats import import_model

    sock = sock or listening_socket(host, port)  # first: a busy port is one error line, before anything loads
    if isinstance(index, (str, os.PathLike)):
        index = Ranker.load(Path(index))
    if isinstance(model, (str, os.PathLike)):
        model = import_model(model)
    # Requests run in a thread pool; each product is one BLAS call over the whole vocabulary. Several
    # multi-threaded BLAS calls at once oversubscribe the cores (8 clients: 13 requests/s against 59
    # with one BLAS thread per call), so concurrency comes from requests, not from inside BLAS.
    with threadpool_limits(limits=1, user_api="blas"), sock:
        server = uvicorn.Server(uvicorn.Config(create_app(model, index), log_level=log_level))
        server.run(sockets=[sock])  # the socket bound here, so nothing can take the port in between


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (as uvicorn binds: SO_REUSEADDR), or one
    :class:`DualvecError` saying why not (the port is in use, the address is not this machine's)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise DualvecError(f"cannot serve on {host}:{port}: unknown host ({exc})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        hint = "; another server is using it (pick another with --port)" if exc.errno == errno.EADDRINUSE else ""
        raise DualvecError(f"cannot serve on {host}:{port} ({exc.strerror or exc}){hint}") from None
    sock.set_inheritable(True)
    return sock


__all__ = ["MAX_TOPN", "Explorer", "create_app", "listening_socket", "serve"]
