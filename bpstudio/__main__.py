"""``python -m bpstudio``: the same entry point as the ``bpstudio`` console script."""

from __future__ import annotations

import sys

from bpstudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
