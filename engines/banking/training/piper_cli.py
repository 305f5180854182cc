"""``python -m engines.banking.training.piper_cli fit ...``: piper's own trainer command line
(``python -m piper.train``, its LightningCLI) with the alignment stand-in installed.

piper-tts 1.8.0 cannot train as installed (its Cython ``monotonic_align`` is neither built nor
shipped as source); this runs the very same ``piper.train.__main__.main`` after
:func:`engines.banking.training.align.install`, for people who want to drive piper's trainer
by hand on a folder from ``timbre bank export``.
"""

from __future__ import annotations


def main() -> None:
    from engines.banking.training.align import install

    install()
    from piper.train.__main__ import main as piper_main

    piper_main()


if __name__ == "__main__":
    main()
