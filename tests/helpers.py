"""Helpers shared by the tests (import them from here, not from conftest)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

#: The shared data beside the project (not every machine has it).
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def gensim_test_file(name: str) -> Path:
    """A data file that ships inside the gensim package (a dev dependency)."""
    gensim = pytest.importorskip("gensim", reason="gensim (dev dependency) is not installed")
    path = Path(os.path.dirname(gensim.__file__)) / "test" / "test_data" / name
    if not path.exists():
        pytest.skip(f"gensim's test data has no {name}")
    return path


def data_dir(model_dir: Path) -> Path:
    """The directory holding a saved model's (or index's) current files: the one its header names."""
    import json

    header_name = "dualvec.json" if (model_dir / "dualvec.json").exists() else "ranker.json"
    header = json.loads((model_dir / header_name).read_text())
    return model_dir / header["data"] if header.get("data") else model_dir


@contextlib.contextmanager
def running_server(model: Path, index: Path | None = None, timeout: float = 60.0):
    """``dualvec serve`` started for real on 127.0.0.1 (a free port); yields its base URL."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "dualvec", "serve", str(model), "--port", str(port)]
    if index is not None:
        cmd += ["--index", str(index)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/model", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: {proc.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
