"""Deprecated: moved to dualvec.training.word2vec and dualvec.text.sources. This path works, with a DeprecationWarning,
for one release."""

from ._moved import forward

__getattr__ = forward(__name__, ("dualvec.training.word2vec", "dualvec.text.sources"))
