"""Reading and writing formats other tools use; each import yields a
:class:`~dualvec.model.DualVectors`."""

from .word2vec import load_word2vec_format, read_word2vec_file, save_word2vec_format

__all__ = ["load_word2vec_format", "read_word2vec_file", "save_word2vec_format"]
