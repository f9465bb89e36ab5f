"""The one exception type dualvec raises for bad input.

Every problem a user can cause (a missing corpus, an unknown word, a corrupt
model file, ...) surfaces as :class:`DualvecError` with a one-line message that
names the problem, so that the CLI can print it without a traceback.
"""

from __future__ import annotations


class DualvecError(ValueError):
    """Bad input: a corpus, word, option or file that dualvec cannot use."""


class UnknownWordError(DualvecError, KeyError):
    """A word that is not in the vocabulary."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown word"
