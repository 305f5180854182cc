"""Neural (RNNoise) and spectral noise reduction on a noisy Piper take.

The noise floor is measured where the synthesis put no speech (known times, not a VAD's
guess), the speech level where it put speech, and intelligibility by Whisper's word error
rate against the text that was spoken.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from engines.audio import AudioClip
from tests.podcast.synth import RATE, room_noise, say, wer

TEXT = ("Welcome back to the show. Today we talk about gardens in small cities.",
        "At least six hours a day, and plenty of water when it is hot.")
GAP_S = 1.5


@functools.cache
def noisy_take(n_lines: int = 2) -> tuple[AudioClip, AudioClip, list[tuple[int, int]],
                                          list[tuple[int, int]]]:
    """Lines with pauses around them, in room noise that swells and fades (a fan speeding
    up: what a steady profile cannot follow): noisy, clean, speech and pauses."""
    lines = [say(t).samples[0] * 0.5 for t in TEXT[:n_lines]]
    gap = np.zeros(int(GAP_S * RATE), np.float32)
    parts, speech, pauses, at = [], [], [], 0
    for line in lines:
        parts += [gap, line]
        pauses.append((at + RATE // 10, at + gap.size - RATE // 10))
        speech.append((at + gap.size, at + gap.size + line.size))
        at += gap.size + line.size
    parts.append(gap)
    pauses.append((at + RATE // 10, at + gap.size - RATE // 10))
    clean = np.concatenate(parts)
    swell = 1.0 + 0.8 * np.sin(2 * np.pi * 0.25 * np.arange(clean.size) / RATE)
    noise = room_noise(clean.size / RATE + 1, -38.0, seed=5)[: clean.size] * swell
    return (AudioClip((clean + noise).astype(np.float32), RATE), AudioClip(clean, RATE),
            speech, pauses)


def level_db(clip: AudioClip, spans: list[tuple[int, int]]) -> float:
    x = np.concatenate([clip.samples[0, a:b] for a, b in spans]).astype(np.float64)
    return float(10 * np.log10(np.mean(x**2) + 1e-20))


def test_rnnoise_lowers_the_noise_floor_and_keeps_the_speech_in_place():
    from engines.podcast.denoise import denoise_clip

    noisy, clean, speech, pauses = noisy_take(1)
    out = denoise_clip(noisy, "rnnoise")
    assert (out.frames, out.sample_rate, out.channels) == (noisy.frames, RATE, 1)
    floor_before, floor_after = level_db(noisy, pauses), level_db(out, pauses)
    speech_before, speech_after = level_db(clean, speech), level_db(out, speech)
    print(f"rnnoise: noise floor {floor_before:.1f} → {floor_after:.1f} dB, speech "
          f"{speech_before:.1f} → {speech_after:.1f} dB")
    assert floor_after <= floor_before - 20.0
    assert abs(speech_after - speech_before) <= 2.0
    # In place, not 20 ms late (RNNoise's own lag is taken off): the output matches the
    # clean speech best at lag 0.
    from scipy.signal import correlate

    a, b = speech[0]
    lags = correlate(out.samples[0, a:b], clean.samples[0, a - 2000 : b + 2000], "valid")
    assert int(np.argmax(lags)) - 2000 == 0


@pytest.mark.slow
@pytest.mark.parametrize("method", ["rnnoise", "spectral"])
def test_denoise_keeps_whisper_intelligibility(method):
    """Both methods on two lines: floor down, speech level and Whisper's WER kept."""
    from engines.podcast.denoise import denoise_clip
    from engines.voices.transcribe import transcribe

    noisy, clean, speech, pauses = noisy_take()
    out = denoise_clip(noisy, method)
    floor_before, floor_after = level_db(noisy, pauses), level_db(out, pauses)
    speech_before, speech_after = level_db(clean, speech), level_db(out, speech)
    wer_noisy, wer_out = wer(" ".join(TEXT), transcribe(noisy)), wer(" ".join(TEXT), transcribe(out))
    print(f"{method}: noise floor {floor_before:.1f} → {floor_after:.1f} dB, speech "
          f"{speech_before:.1f} → {speech_after:.1f} dB, WER {wer_noisy:.3f} → {wer_out:.3f}")
    assert floor_after <= floor_before - 15.0
    assert abs(speech_after - speech_before) <= 3.5
    assert wer_out <= wer_noisy + 0.05


def test_rnnoise_in_the_cleanup_chain_and_a_bad_method_is_one_line():
    from engines.errors import BadInput
    from engines.podcast.cleanup import CleanupSettings, clean_track

    noisy, _clean, _speech, pauses = noisy_take(1)
    stages = []
    out = clean_track(noisy, [], CleanupSettings(denoiser="rnnoise", deess=False),
                      progress=lambda p: stages.append(p.stage))
    assert "reducing noise" in stages and out.frames == noisy.frames
    # Levelled to −20 LUFS afterwards, so compare the floor to the speech, not to itself.
    assert level_db(out, pauses) - level_db(out, _speech) <= level_db(noisy, pauses) - level_db(noisy, _speech) - 15
    with pytest.raises(BadInput, match="not a noise reduction method"):
        CleanupSettings(denoiser="magic")


@pytest.mark.slow
def test_podcast_master_cli_denoise_choice(tmp_path, timbre_cli):
    from engines.audio_io import read_audio, write_audio

    noisy, _clean, speech, pauses = noisy_take(1)
    src = write_audio(tmp_path / "take.wav", noisy)
    floors = {}
    for method in ("rnnoise", "off"):
        out = tmp_path / f"{method}.flac"
        r = timbre_cli("podcast", "master", src, "-o", out, "--denoise", method, "--max-pause", "0")
        assert r.returncode == 0, r.stderr
        back = read_audio(out).mono().resampled(RATE)  # the episode is at 44.1 kHz
        floors[method] = level_db(back, pauses) - level_db(back, speech)
    print(f"floor under speech: rnnoise {floors['rnnoise']:.1f} dB, off {floors['off']:.1f} dB")
    assert floors["rnnoise"] <= floors["off"] - 15
    r = timbre_cli("podcast", "master", src, "-o", tmp_path / "x.wav", "--denoise", "magic")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_timbre_denoise_a_track_in_place(tmp_path, capsys):
    """``timbre denoise PROJECT --track N``: the clip keeps its place and length, plays a
    cleaned take, and the noise in the pauses is down."""
    from desktop.cli.main import main
    from desktop.project.store import Project
    from desktop.project.timeline import Timeline
    from engines.audio_io import write_audio

    noisy, _clean, speech, pauses = noisy_take(1)
    src = write_audio(tmp_path / "guest.wav", noisy)
    with Project.create(tmp_path / "show", sample_rate=RATE) as p:
        _take, track, clip = p.import_file(src)
        Timeline(p).move_clip(clip.id, RATE)
        path = p.path
    assert main(["denoise", str(path), "--track", str(track.id)]) == 0
    assert "now plays take" in capsys.readouterr().out
    with Project.open(path) as p:
        (after,) = p.clips(track.id)
        assert (after.start_frame, after.length_frames) == (RATE, noisy.frames)
        cleaned = p.load_audio(p.take(after.take_id).audio_sha256)
        assert level_db(cleaned, pauses) <= level_db(noisy, pauses) - 20
    assert main(["denoise", str(path), "--clip", "99"]) == 1
    assert "no clip 99" in capsys.readouterr().err
