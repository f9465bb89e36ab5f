"""The text layer: from a source to word ids, one way.

A training text passes through these modules once, in this order, and never
returns to one it has left (tests/test_layers.py checks that each imports only
those before it)::

    collections  readers of IR collections: documents, queries, judgments, runs
    sources      files, folders, .gz/.bz2, tar archives, WikiExtractor, collections -> text
    tokenize     text -> tokens (RegexTokenizer, pattern checks, sentences)
    vocab        tokens -> counted words (Vocabulary, Huffman tree)
    scan_kernels the compiled tokenise-and-count (numba, plain functions over arrays)
    encoded      scan_corpus: tokens -> provisional ids -> the encoded corpus
    datasets     offline text (the standard library's docstrings)

So ``dualvec.training.word2vec.train(corpus)`` calls
``encoded.scan_corpus``, which takes the text from ``sources`` (a collection
through ``collections``; a path through ``sources.iter_corpus_text``), has it
lowercased, put in NFC and tokenised by ``tokenize`` (or, for a one-class
pattern, the same class in ``scan_kernels``), counts and writes ids; the
training kernels then read only the encoded array. An objective that needs
documents rather than sentences reads ``sources.iter_titled_documents``.

The IR-collection readers live here rather than in a package of their own:
documents and queries are text, training reads a collection as its corpus,
and they depend on nothing but the shared helpers below this layer.
"""

from .collections import Collection, read_collection
from .encoded import EncodedCorpus, ScannedCorpus, scan_corpus
from .sources import CorpusLike, as_training_text, iter_corpus_text, iter_titled_documents
from .tokenize import RegexTokenizer, Tokenizer, default_tokenizer, iter_sentences
from .vocab import HuffmanTree, Vocabulary

__all__ = ["Collection", "CorpusLike", "EncodedCorpus", "HuffmanTree", "RegexTokenizer", "ScannedCorpus",
           "Tokenizer", "Vocabulary", "as_training_text", "default_tokenizer", "iter_corpus_text", "iter_sentences",
           "iter_titled_documents", "read_collection", "scan_corpus"]
