"""``python -m crawler.cli``: the ``newsites`` console script."""

import sys

from crawler.cli import main

sys.exit(main())
