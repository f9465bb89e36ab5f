#!/usr/bin/env bash
# The benchmark-only environment for the peer, WordLlama (benchmarks/bench_wordllama.py).
# WordLlama is never a dependency of dualvec: it lives in its own venv, under
# benchmarks/out/ (git-ignored).
#
#   bash benchmarks/wordllama_env.sh [VENV]      # default VENV: benchmarks/out/wordllama-env
#
# Facts it relies on (December 2026):
# * wordllama 0.4.0.post1 is a 19 MB wheel that ships its weights (256-d static token
#   embeddings) and its tokenizer under wordllama/tokenizers/; it needs no torch.
# * WordLlama.load() tries the network for the tokenizer unless it is given
#   disable_download=True and cache_dir=<the package's folder>: benchmarks/wordllama_rank.py
#   loads it that way, so it runs offline.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${1:-$HERE/out/wordllama-env}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --upgrade pip
"$VENV/bin/pip" install "wordllama==0.4.0.post1"
"$VENV/bin/python" - <<'PY'
from pathlib import Path
import wordllama
from wordllama import WordLlama
folder = Path(wordllama.__file__).parent
wl = WordLlama.load(disable_download=True, cache_dir=folder)
print("wordllama", wordllama.__version__ if hasattr(wordllama, "__version__") else "", "at", folder,
      "dims", wl.embed(["a test"]).shape)
PY
