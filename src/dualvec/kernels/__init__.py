"""numba kernels: plain functions over arrays, no dualvec objects."""
