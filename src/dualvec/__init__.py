"""dualvec: word2vec that keeps both embedding spaces.

Layers, lowest first (a layer imports only those below it)::

    corpus, vocab, encoded     read text, count words, encode ids once
    kernels, training          numba kernels and the threads that drive them
    vectors, store, model      string-keyed IN/OUT vectors, native format, DualVectors
    formats                    word2vec.c, gensim (any version), fastText; IR collections
    ranking                    DESM, BM25 (bm25s) and their mixture
    evaluation                 word similarity, analogies, IR metrics, tuning
    cli                        the ``dualvec`` command

Start with :func:`train` and :func:`load`.
"""

from .corpus import RegexTokenizer
from .errors import DualvecError, UnknownWordError
from .formats import from_gensim, import_model, load_word2vec_format, save_word2vec_format, to_gensim
from .model import SPACES, DualVectors, load, train
from .training import TrainingParams
from .vectors import Vectors

__all__ = [
    "SPACES",
    "DualVectors",
    "DualvecError",
    "RegexTokenizer",
    "TrainingParams",
    "UnknownWordError",
    "Vectors",
    "from_gensim",
    "import_model",
    "load",
    "load_word2vec_format",
    "save_word2vec_format",
    "to_gensim",
    "train",
]
