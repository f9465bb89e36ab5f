"""The text layer: from a source to word ids, one way.

A training text passes through these modules once, in this order, and never
returns to one it has left (tests/test_layers.py checks that each imports only
those before it)::

    collections  readers of IR collections: documents, queries, judgments, runs
    sources      files, folders, .gz/.bz2, collections as training text -> text
    tokenize     text -> tokens (RegexTokenizer, pattern checks, sentences)
    vocab        tokens -> counted words (Vocabulary, Huffman tree)
    scan_kernels the compiled tokenise-and-count (numba, plain functions over arrays)
    encoded      scan_corpus: tokens -> provisional ids -> the encoded corpus
    datasets     offline text (the standard library's docstrings)

So ``dualvec.training.word2vec.train(corpus)`` calls
``encoded.scan_corpus``, which takes the text from ``sources`` (a collection
through ``collections``), tokenises it with ``tokenize`` (or, for a one-class
pattern, ``scan_kernels``), counts and writes ids; the training kernels then
read only the encoded array.

The IR-collection readers live here rather than in a package of their own:
documents and queries are text, training reads a collection as its corpus,
and they depend on nothing but the shared helpers below this layer.
"""

from .collections import Collection, read_collection
from .encoded import EncodedCorpus, ScannedCorpus, scan_corpus
from .sources import CorpusLike, as_training_text
from .tokenize import RegexTokenizer, Tokenizer, default_tokenizer, iter_sentences
from .vocab import HuffmanTree, Vocabulary

__all__ = ["Collection", "CorpusLike", "EncodedCorpus", "HuffmanTree", "RegexTokenizer", "ScannedCorpus",
           "Tokenizer", "Vocabulary", "as_training_text", "default_tokenizer", "iter_sentences", "read_collection",
           "scan_corpus"]
