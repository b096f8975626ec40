"""Entry point of the PyInstaller bundle (``make bundle``): the ``bpstudio`` command, frozen.

``freeze_support`` first: the window's training child is a ``multiprocessing`` spawn of this
same binary, and in a frozen program that call is what turns the child into a worker instead of
a second window. Leaves out: everything else (it is ``bpstudio.cli.main``).
"""

from __future__ import annotations

import multiprocessing
import sys

from bpstudio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
