"""Reading and writing formats other tools use; each import yields a
:class:`~dualvec.model.DualVectors`.

:func:`import_model` detects the format of a path from the table in
:mod:`.registry`: a dualvec model directory, a gensim pickle (any version), a
fastText ``.bin`` or ``.vec``, Stanford GloVe with both spaces (``-model 0`` text, or
``vectors.bin`` with its ``vocab.txt``: IN = W, OUT = W̃), or a word2vec.c text/binary file (header-less
GloVe-style and DESM's published tab-separated files included), optionally
with a second file of OUT vectors. :func:`export_model` writes one.
"""

from __future__ import annotations

from .fasttext import load_fasttext, load_fasttext_vec
from .gensim import from_gensim, load_gensim, to_gensim
from .glove import load_glove, read_glove
from .registry import FORMATS, Format, detect_format, export_model, get_format, import_model
from .word2vec import load_word2vec_format, read_word2vec_file, save_word2vec_format

__all__ = ["FORMATS", "Format", "detect_format", "export_model", "from_gensim", "get_format", "import_model",
           "load_fasttext", "load_fasttext_vec", "load_gensim", "load_glove", "load_word2vec_format", "read_glove",
           "read_word2vec_file", "save_word2vec_format", "to_gensim"]
