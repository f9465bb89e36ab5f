"""``python -m dualvec``: the ``dualvec`` command, without a console script (or a pyenv shim) in front."""

from .cli import run

run()
