"""Entry point of the frozen app (PyInstaller): the same as the ``icbmap`` console script."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from icbmap.main import main

    sys.exit(main())
