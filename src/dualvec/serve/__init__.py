"""``dualvec serve``: a local web explorer of the two spaces and of DESM.

:func:`create_app` builds the ASGI app (FastAPI: the JSON API under ``/api``,
the page at ``/``, its assets shipped in the package, nothing fetched from a
CDN); :func:`serve` runs it on uvicorn, bound to 127.0.0.1 by default.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..model import DualVectors
from ..ranking import Ranker
from .api import MAX_TOPN, Explorer, create_app


def serve(model: DualVectors | str | os.PathLike, index: Ranker | str | os.PathLike | None = None, *,
          host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning") -> None:
    """Run the explorer until interrupted. ``model`` and ``index`` may be paths (memory-mapped)."""
    import uvicorn
    from threadpoolctl import threadpool_limits

    from ..formats import import_model

    if isinstance(index, (str, os.PathLike)):
        index = Ranker.load(Path(index))
    if isinstance(model, (str, os.PathLike)):
        model = import_model(model)
    # Requests run in a thread pool; each product is one BLAS call over the whole vocabulary. Several
    # multi-threaded BLAS calls at once oversubscribe the cores (8 clients: 13 requests/s against 59
    # with one BLAS thread per call), so concurrency comes from requests, not from inside BLAS.
    with threadpool_limits(limits=1, user_api="blas"):
        uvicorn.run(create_app(model, index), host=host, port=port, log_level=log_level)


__all__ = ["MAX_TOPN", "Explorer", "create_app", "serve"]
