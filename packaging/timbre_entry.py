"""Entry point of the frozen app (PyInstaller): the same ``timbre`` the source tree runs.

``freeze_support`` lets any ``multiprocessing`` child the engines start re-enter the frozen
executable instead of starting the studio again. No bytecode is written beside the few
modules imported from files (the torchaudio stand-in): an installed bundle is read-only, and
a stray ``__pycache__`` would stop ``dpkg -r`` from removing its folders.
"""

import multiprocessing
import sys

sys.dont_write_bytecode = True

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from desktop.cli.main import main

    sys.exit(main())
