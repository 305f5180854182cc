"""Monotonic alignment search for piper's trainer, without its Cython extension.

piper-tts 1.8.0 ships ``piper/train/vits/monotonic_align/__init__.py``, which imports a
compiled ``monotonic_align.core`` built from ``core.pyx`` by a ``setup.py`` — but the wheel
contains neither ``core.pyx`` nor a built module, so ``python -m piper.train`` fails on its
first training step. Rather than compile into the shared site-packages, :func:`install`
registers this numba implementation under the module name piper imports
(``piper.train.vits.monotonic_align.monotonic_align.core``) in the running process, so
piper's own ``maximum_path`` wrapper and ``SynthesizerTrn`` run unchanged.

:func:`maximum_path_each` is a line-for-line transcription of VITS' ``core.pyx``
(jaywalnut310/vits, MIT); tests compare it with that file compiled by Cython.
"""

from __future__ import annotations

import sys
import types

import numba
import numpy as np

_CORE = "piper.train.vits.monotonic_align.monotonic_align.core"


@numba.njit(cache=True, nogil=True)
def maximum_path_each(path, value, t_y, t_x, max_neg_val=-1e9):  # pragma: no cover - jitted
    index = t_x - 1
    for y in range(t_y):
        for x in range(max(0, t_x + y - t_y), min(t_x, y + 1)):
            if x == y:
                v_cur = max_neg_val
            else:
                v_cur = value[y - 1, x]
            if x == 0:
                if y == 0:
                    v_prev = 0.0
                else:
                    v_prev = max_neg_val
            else:
                v_prev = value[y - 1, x - 1]
            value[y, x] += max(v_prev, v_cur)
    for y in range(t_y - 1, -1, -1):
        path[y, index] = 1
        if index != 0 and (index == y or value[y - 1, index] < value[y - 1, index - 1]):
            index = index - 1


@numba.njit(cache=True, nogil=True)
def _maximum_path_batch(paths, values, t_ys, t_xs):  # pragma: no cover - jitted
    for i in range(paths.shape[0]):
        maximum_path_each(paths[i], values[i], t_ys[i], t_xs[i])


def maximum_path_c(
    paths: np.ndarray, values: np.ndarray, t_ys: np.ndarray, t_xs: np.ndarray
) -> None:
    """Same signature and in-place effect as the Cython ``maximum_path_c``: ``paths``
    (int32, b×t_y×t_x) gets the best monotonic path through ``values`` (float32, which is
    overwritten with the running sums, as the original does)."""
    _maximum_path_batch(
        paths,
        np.ascontiguousarray(values, dtype=np.float32) if not values.flags.c_contiguous else values,
        np.asarray(t_ys, dtype=np.int32),
        np.asarray(t_xs, dtype=np.int32),
    )


def install() -> None:
    """Make ``import piper.train.vits.monotonic_align`` work (idempotent)."""
    if _CORE in sys.modules:
        return
    outer = "piper.train.vits.monotonic_align.monotonic_align"
    package = types.ModuleType(outer)
    package.__path__ = []  # a namespace for the core module only
    core = types.ModuleType(_CORE)
    core.maximum_path_c = maximum_path_c  # type: ignore[attr-defined]
    core.__doc__ = "numba stand-in for piper's uncompiled Cython core (engines.banking.training.align)"
    package.core = core  # type: ignore[attr-defined]
    sys.modules[outer] = package
    sys.modules[_CORE] = core


def maximum_path(neg_cent, mask):
    """piper's own ``maximum_path`` (torch in, torch out), with the stand-in installed."""
    install()
    from piper.train.vits.monotonic_align import maximum_path as piper_maximum_path

    return piper_maximum_path(neg_cent, mask)
