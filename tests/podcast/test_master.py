"""Mastering a synthetic two-speaker episode: loudness, true peak, ducking, intelligibility."""

from __future__ import annotations

import numpy as np
import pytest

from engines.audio import AudioClip
from engines.audio_io import read_audio, write_audio
from engines.loudness import integrated_lufs, true_peak_db
from tests.podcast.conftest import DUCK_DB
from tests.podcast.synth import DRONE_HZ, wer


def _band_db(clip: AudioClip, spans: list[tuple[float, float]]) -> float:
    """Level of the bed's 45 Hz drone inside ``spans``: below the voices' 80 Hz high-pass,
    so it reads the music even while someone speaks."""
    from scipy.signal import butter, sosfiltfilt

    x = clip.mono().samples[0].astype(np.float64)
    sr = clip.sample_rate
    sos = butter(4, [DRONE_HZ - 10, DRONE_HZ + 11], "band", fs=sr, output="sos")
    band = sosfiltfilt(sos, x)
    parts = np.concatenate([band[int(a * sr) : int(b * sr)] for a, b in spans])
    return float(10 * np.log10(np.mean(parts**2)))


def test_exported_episode_meets_minus_16_lufs_and_true_peak(mastered, tmp_path):
    path = write_audio(tmp_path / "episode.wav", mastered.clip)
    back = read_audio(path)
    assert back.channels == 2
    assert integrated_lufs(back) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_db(back) <= -1.0


def test_music_is_ducked_by_the_asked_depth_under_speech(episode, mastered):
    # Middles of each line against the middle of the 4 s pause (after the release).
    under = [(a + 0.4, b - 0.2) for a, b in episode.speech]
    gap_start, gap_end = episode.long_gap
    clear = _band_db(mastered.clip, [(gap_start + 1.5, gap_end - 0.4)])
    depth = clear - _band_db(mastered.clip, under)
    print(f"ducking depth measured {depth:.2f} dB, asked {DUCK_DB} dB")
    assert depth == pytest.approx(DUCK_DB, abs=2.0)


def test_mastered_speech_is_no_less_intelligible(episode, mastered):
    from engines.voices.transcribe import transcribe

    before = wer(episode.text, transcribe(episode.raw_mix))
    after = wer(episode.text, transcribe(mastered.clip))
    print(f"WER raw mix {before:.3f}, mastered {after:.3f}")
    assert after <= before + 0.02
    assert after <= 0.15


@pytest.mark.parametrize(
    ("preset", "channels"), [("podcast-mono", 1), ("ebu-r128", 2), ("streaming", 2)]
)
def test_presets_meet_their_targets_and_lower_the_room_noise(episode, preset, channels):
    from engines.podcast.master import MasterRequest, master
    from engines.podcast.presets import PRESETS

    target = PRESETS[preset]
    result = master(MasterRequest(voices=episode.voices, preset=target, max_pause_s=None))
    assert result.clip.channels == channels
    assert result.lufs == pytest.approx(target.lufs, abs=0.5)
    assert result.true_peak_db <= -1.0
    # Speech-to-pause ratio in the long gap: the clean-up chain must widen it.
    raw = AudioClip(sum(v.samples for v in episode.voices), episode.voices[0].sample_rate)

    def speech_to_pause(clip: AudioClip) -> float:
        x, sr = clip.mono().samples[0], clip.sample_rate
        gap = x[int((episode.long_gap[0] + 0.5) * sr) : int((episode.long_gap[1] - 0.5) * sr)]
        line = x[int(episode.speech[0][0] * sr) : int(episode.speech[0][1] * sr)]
        return float(10 * np.log10(np.mean(line**2) / np.mean(gap**2)))

    gained = speech_to_pause(result.clip) - speech_to_pause(raw)
    print(
        f"{preset}: {result.lufs:.2f} LUFS, {result.true_peak_db:.2f} dBTP, noise down {gained:.1f} dB"
    )
    assert gained >= 10.0


def test_render_can_be_cancelled_between_stages(episode):
    from engines.cancel import CancelToken
    from engines.errors import Cancelled
    from engines.podcast.master import MasterRequest, master

    token = CancelToken()
    stages = []

    def progress(p):
        stages.append(p.stage)
        if p.stage.startswith("finding speech"):
            token.cancel()

    with pytest.raises(Cancelled):
        master(MasterRequest(voices=episode.voices), progress=progress, cancel=token)
    assert not any(s.startswith("cleaning") for s in stages)


def test_intro_and_outro_frame_the_episode_and_shift_chapters(episode):
    from dataclasses import replace

    from engines.podcast.chapters import Chapter
    from engines.podcast.cleanup import CleanupSettings
    from engines.podcast.master import MasterRequest, master
    from tests.podcast.synth import music_bed

    intro, outro = music_bed(2.0), music_bed(1.0)
    result = master(
        MasterRequest(
            voices=episode.voices,
            intro=intro,
            outro=outro,
            max_pause_s=None,
            cleanup=replace(CleanupSettings(), noise_reduction=False),
            chapters=[Chapter(episode.speech[2][0], "Sunlight")],
        )
    )
    assert result.voice_offset == pytest.approx(2.0, abs=1e-3)
    assert result.clip.duration == pytest.approx(3.0 + episode.raw_mix.duration, abs=0.01)
    assert result.chapters[0].start == pytest.approx(2.0 + episode.speech[2][0], abs=0.01)
    assert result.speech[0][0] == pytest.approx(2.0 + episode.speech[0][0], abs=0.15)


def test_spooled_files_live_with_the_result_and_go_on_close_or_cancel(episode, tmp_path):
    """The result's stream reads spooled files in the request's work folder: they stay
    while the result is open, and nothing is left after close() or a cancelled render."""
    from engines.cancel import CancelToken
    from engines.errors import Cancelled
    from engines.podcast.master import MasterRequest, master

    request = MasterRequest(voices=episode.voices, music=episode.music, work_dir=tmp_path)
    with master(request) as result:
        assert any(tmp_path.iterdir())
        assert result.stream.frames == result.clip.frames
    assert not any(tmp_path.iterdir())

    token = CancelToken()

    def progress(p):
        if p.stage.startswith("cleaning"):
            token.cancel()

    with pytest.raises(Cancelled):
        master(request, progress=progress, cancel=token)
    assert not any(tmp_path.iterdir())


def test_episode_is_refused_up_front_when_its_spools_would_not_fit(episode, monkeypatch):
    import shutil
    from collections import namedtuple

    from engines.errors import BadInput
    from engines.podcast.master import MasterRequest, master

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9, 1_000))
    with pytest.raises(BadInput, match="GB is free"):
        master(MasterRequest(voices=episode.voices))
