"""Watermark measurements: robustness, false positives and audible cost, with real perth.

- Robustness: speech (Piper joe, espeak-ng), music-like synthesis and noise are marked the
  way every take is (``finalize_take``), then put through MP3 64 kbps, resampling to
  16 kHz, noise at 25 dB SNR, trimming to half and −6 dB gain; the verdict of ``detect``
  is counted per kind and attack.
- False positives: ``detect`` on 110 clean clips (40 speech, 40 music-like, 30 noise) and
  on 90 more (other sentences and speakers, other seeds) that were never used to choose
  the detector's limits; the goal is zero "present" in both. Content that makes perth's
  decoder answer on its own is counted separately as "inconclusive".
- Audible cost (no listening test is possible without a sound card): SNR of marked
  against original, a simplified PEAQ-style noise-to-mask ratio with the share of
  disturbed frames, and the depth of the spectral ripple (``tests/provenance/audible``),
  each next to a 1 dB gain change on the same clips for scale; embed/detect speed.

Run: ``make bench-watermark`` (prints tables; 10–20 minutes on 2 busy cores).
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pytest

from engines.provenance import Provenance
from engines.watermark import detect, finalize_take, watermarker
from tests.provenance import audible, corpus

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
    cost: dict[str, list[tuple[float, ...]]] = {}
    audio_s = embed_s = detect_s = 0.0
    for kind, clips in _marked_sets().items():
        for clip in clips:
            t0 = time.perf_counter()
            take = finalize_take(clip, Provenance(engine="bench"), watermark=True)
            embed_s += time.perf_counter() - t0
            audio_s += clip.duration
            louder = clip.scaled(10 ** (1 / 20))
            cost.setdefault(kind, []).append(
                (
                    audible.snr_db(clip, take.clip),
                    *audible.nmr(clip, take.clip),
                    audible.ripple_db(clip, take.clip),
                    *audible.nmr(clip, louder),
                )
            )
            t0 = time.perf_counter()
            rows.setdefault((kind, "none"), Counter())[detect(take.clip).verdict] += 1
            detect_s += time.perf_counter() - t0
            for name, attack in corpus.ATTACKS.items():
                rows.setdefault((kind, name), Counter())[detect(attack(take.clip)).verdict] += 1
    print("\nwatermark detection after handling (present / inconclusive / absent of 8)")
    for (kind, attack), c in rows.items():
        print(f"  {kind:6s} {attack:13s} {c['present']:3d} {c['inconclusive']:3d} {c['absent']:3d}")
    print("audible cost (medians; min SNR): SNR dB | NMR dB, disturbed frames | ripple dB"
          " 50 Hz-2 kHz || a +1 dB gain change for scale: NMR dB, disturbed frames")
    for kind, rows_ in cost.items():
        v = np.array(rows_)
        m = np.median(v, axis=0)
        print(f"  {kind:6s} SNR {m[0]:5.1f} (min {v[:, 0].min():5.1f}) | NMR {m[1]:5.1f}, "
              f"{m[2]:4.0%} | ripple {m[3]:4.2f} || +1 dB: NMR {m[4]:5.1f}, {m[5]:4.0%}")
    print(f"speed: finalize (embed + verify) RTF {embed_s / audio_s:.3f}, "
          f"detect (unattacked) RTF {detect_s / audio_s:.3f}")
    for attack in ["none", *corpus.ATTACKS]:
        assert rows[("speech", attack)]["present"] >= 7, (attack, rows[("speech", attack)])
        assert rows[("noise", attack)]["present"] >= 7, (attack, rows[("noise", attack)])


def test_bench_watermark_false_positives():
    watermarker()
    sets = {
        # The detector's limits were chosen on these and on seeds 7 and 99 (see
        # engines/watermark.py); one music clip here was a false positive before.
        "tuned-on": {
            "speech": corpus.speech(40),
            "music": corpus.music(40, seed=2024),
            "noise": corpus.noise(30, seed=2024),
        },
        # Never looked at while choosing them: other sentences, speakers and seeds (seed
        # 4242 was used to check an intermediate rule, so it is not used here).
        "held-out": {
            "speech": corpus.fresh_speech(20),
            "music": corpus.music(40, seed=9001),
            "noise": corpus.noise(30, seed=9001),
        },
    }
    print("\nclean clips (present = false positive / inconclusive / absent)")
    totals = {}
    for name, clean in sets.items():
        total = totals[name] = Counter()
        for kind, clips in clean.items():
            c = Counter(detect(clip).verdict for clip in clips)
            total.update(c)
            print(f"  {name:8s} {kind:6s} {len(clips):3d} clips: "
                  f"{c['present']:3d} {c['inconclusive']:3d} {c['absent']:3d}")
        print(f"  {name:8s} total  {sum(total.values()):3d} clips: false positives {total['present']}")
    assert sum(totals["tuned-on"].values()) >= 100
    assert {name: t["present"] for name, t in totals.items()} == {"tuned-on": 0, "held-out": 0}
