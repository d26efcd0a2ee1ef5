"""``python -m csirt_tui``: the same as the ``csirt-desk`` command."""

import sys

from .cli import main

sys.exit(main())
