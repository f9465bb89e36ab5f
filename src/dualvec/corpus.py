"""Deprecated: moved to dualvec.text.tokenize and dualvec.text.sources. This path works, with a DeprecationWarning,
for one release."""

from ._moved import forward

__getattr__ = forward(__name__, ("dualvec.text.sources", "dualvec.text.tokenize"))
