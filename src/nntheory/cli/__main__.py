"""``python -m nntheory.cli``: the same as the ``nntheory`` command."""

import sys

from nntheory.cli import main

sys.exit(main())
