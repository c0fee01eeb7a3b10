"""``python -m digitnet``: the same as the ``digitnet`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
