"""Deprecated: moved to dualvec.text.scan_kernels. This path works, with a DeprecationWarning, for one release."""

from ._moved import forward

__getattr__ = forward(__name__, ("dualvec.text.scan_kernels",))
