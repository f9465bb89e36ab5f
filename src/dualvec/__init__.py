"""dualvec: word2vec that keeps both embedding spaces.

Layers, lowest first (a layer imports only those below it)::

    errors, progress, atomic            shared helpers
    text                                sources, tokenise, count words, encode ids once; IR test collections
    training (options ... kernels)      options, tables, numba kernels and the backends that run them
    vectors, store, model               string-keyed IN/OUT vectors, native format, DualVectors
    training.word2vec                   train() and train_more(): corpus -> DualVectors
    formats                             one table of formats: word2vec.c, gensim (any version), fastText
    ranking                             analysis, BM25 (bm25s), DESM, stages, the Ranker
    evaluation                 word similarity, analogies, IR metrics, tuning
    cli                        the ``dualvec`` command

Start with :func:`train` and :func:`load`.
"""

from .errors import DualvecError, UnknownWordError
from .formats import from_gensim, import_model, load_word2vec_format, save_word2vec_format, to_gensim
from .model import SPACES, DualVectors, load
from .text.tokenize import RegexTokenizer
from .training import TrainingParams
from .training.word2vec import train  # also registers train_more with the model
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
