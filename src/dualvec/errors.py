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


def finite_number(text: str, what: str) -> float:
    """``text`` read as a finite number; else one :class:`DualvecError`, ``{what} {text!r} is not a
    number`` (or not a finite one): a score column of a run or a word-pair file."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise DualvecError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise DualvecError(f"{what} {text!r} is not a finite number")
    return value


def check_number(what: str, value: object, low: float | None = None, high: float | None = None, *,
                 integer: bool = False, above: bool = False) -> None:
    """A setting's value is a number (a whole one if ``integer``; never a bool), finite, and in
    ``[low, high]`` (``low`` itself excluded when ``above``); else one :class:`DualvecError`
    naming the setting and the allowed range. ``nan`` fails every comparison, so a check
    written as ``if x < 0`` lets it through; this one does not."""
    import math
    import numbers

    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)  # type: ignore[arg-type]
    if ok and low is not None:
        ok = value > low if above else value >= low  # type: ignore[operator]
    if ok and high is not None:
        ok = value <= high  # type: ignore[operator]
    if not ok:
        def num(x: float) -> str:
            return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"

        if low is not None and high is not None:
            where = f"in {'(' if above else '['}{num(low)}, {num(high)}]"
        elif low is not None:
            where = f"greater than {num(low)}" if above else f"at least {num(low)}"
        elif high is not None:
            where = f"at most {num(high)}"
        else:
            where = ""
        kind = "whole" if integer else "finite"
        raise DualvecError(f"{what} must be a {kind} number{' ' + where if where else ''}, not {value!r}")
