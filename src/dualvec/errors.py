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


def parse_json(text: str | bytes, where: object) -> object:
    """``json.loads``, every failure one :class:`DualvecError` naming ``where`` (a file, a line):
    bad syntax, bytes that are not UTF-8, nesting deeper than the parser's recursion allows
    (a line of 100,000 ``[``), or a number too long to convert."""
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DualvecError(f"{where} is not JSON ({exc.msg} at character {exc.pos})") from None
    except RecursionError:
        raise DualvecError(f"{where} is not JSON dualvec reads (nested too deeply)") from None
    except UnicodeDecodeError as exc:
        raise DualvecError(f"{where} is not valid UTF-8 at byte {exc.start}") from None
    except ValueError as exc:  # an integer of more digits than Python converts, ...
        raise DualvecError(f"{where} is not JSON dualvec reads ({exc})") from None
