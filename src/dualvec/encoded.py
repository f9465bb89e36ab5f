"""Deprecated: moved to dualvec.text.encoded. This path works, with a DeprecationWarning, for one release."""

from ._moved import forward

__getattr__ = forward(__name__, ("dualvec.text.encoded",))
