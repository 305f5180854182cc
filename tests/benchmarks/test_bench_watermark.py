"""Watermark measurements: robustness, false positives and audible cost, with real perth.

- Robustness: speech (Piper joe, espeak-ng), music-like synthesis and noise are marked the
  way every take is (``finalize_take``), then put through MP3 64 kbps, resampling to
  16 kHz, noise at 25 dB SNR, trimming to half and −6 dB gain; the verdict of ``detect``
  is counted per kind and attack.
- False positives: ``detect`` on 110 clean clips (40 speech, 40 music-like, 30 noise);
  the goal is zero "present". Content that makes perth's decoder answer on its own is
  counted separately as "inconclusive".
- Audible cost: SNR of marked against original, and embed/detect speed.

Run: ``make bench-watermark`` (prints a table; 15–25 minutes on 2 busy cores).
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pytest

from engines.provenance import Provenance
from engines.watermark import detect, finalize_take, watermarker
from tests.provenance import corpus

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600)]


def _marked_sets() -> dict[str, list]:
    return {
        "speech": corpus.speech(8),
        "music": corpus.music(8, seed=21),
        "noise": corpus.noise(8, seed=21),
    }


def test_bench_watermark_robustness_and_cost():
    watermarker()
    rows: dict[tuple[str, str], Counter] = {}
    snrs: dict[str, list[float]] = {}
    audio_s = embed_s = detect_s = 0.0
    for kind, clips in _marked_sets().items():
        for clip in clips:
            t0 = time.perf_counter()
            take = finalize_take(clip, Provenance(engine="bench"), watermark=True)
            embed_s += time.perf_counter() - t0
            audio_s += clip.duration
            snrs.setdefault(kind, []).append(corpus.snr_db(clip, take.clip))
            t0 = time.perf_counter()
            rows.setdefault((kind, "none"), Counter())[detect(take.clip).verdict] += 1
            detect_s += time.perf_counter() - t0
            for name, attack in corpus.ATTACKS.items():
                rows.setdefault((kind, name), Counter())[detect(attack(take.clip)).verdict] += 1
    print("\nwatermark detection after handling (present / inconclusive / absent of 8)")
    for (kind, attack), c in rows.items():
        print(f"  {kind:6s} {attack:13s} {c['present']:3d} {c['inconclusive']:3d} {c['absent']:3d}")
    print("audible cost: SNR of marked vs original, dB (median, min)")
    for kind, values in snrs.items():
        print(f"  {kind:6s} {np.median(values):5.1f} {np.min(values):5.1f}")
    print(f"speed: finalize (embed + verify) RTF {embed_s / audio_s:.3f}, "
          f"detect (unattacked) RTF {detect_s / audio_s:.3f}")
    for attack in ["none", *corpus.ATTACKS]:
        assert rows[("speech", attack)]["present"] >= 7, (attack, rows[("speech", attack)])
        assert rows[("noise", attack)]["absent"] <= 2, (attack, rows[("noise", attack)])


def test_bench_watermark_false_positives():
    watermarker()
    clean = {
        "speech": corpus.speech(40),
        # Seeds 7 and 99 were used to choose the re-pitch confirmation; these are fresh.
        "music": corpus.music(40, seed=2024),
        "noise": corpus.noise(30, seed=2024),
    }
    total = Counter()
    print("\nclean clips (present = false positive / inconclusive / absent)")
    for kind, clips in clean.items():
        c = Counter(detect(clip).verdict for clip in clips)
        total.update(c)
        print(f"  {kind:6s} {len(clips):3d} clips: {c['present']:3d} {c['inconclusive']:3d} {c['absent']:3d}")
    print(f"  total  {sum(total.values()):3d} clips: false positives {total['present']}")
    assert sum(total.values()) >= 100
    assert total["present"] == 0
