"""Block-by-block measurement and rendering give what the whole-array code gives."""

from __future__ import annotations

import numpy as np
import pytest

from engines.audio import AudioClip


def _programme(rate: int, channels: int, seconds: float, seed: int = 0) -> AudioClip:
    """Noise bursts with a quiet lead-in and a rising level: gating has work to do."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    x = rng.standard_normal((channels, n)).astype(np.float32) * np.linspace(0.02, 0.4, n, dtype=np.float32)
    x[:, : rate // 2] *= 0.001
    return AudioClip(x, rate)


@pytest.mark.parametrize(("rate", "channels", "seconds"), [(48_000, 2, 7.3), (44_100, 1, 3.05), (16_000, 2, 0.25)])
def test_block_loudness_matches_pyloudnorm(rate, channels, seconds):
    import pyloudnorm

    from engines.loudness import LoudnessMeter, TruePeakMeter, true_peak_db

    clip = _programme(rate, channels, seconds)
    meter, peak = LoudnessMeter(rate, channels), TruePeakMeter(channels)
    for a in range(0, clip.frames, 4321):  # blocks that fit neither 100 ms nor 400 ms
        meter.feed(clip.samples[:, a : a + 4321])
        peak.feed(clip.samples[:, a : a + 4321])
    padded = clip.samples
    if clip.duration < 0.4:
        padded = np.pad(padded, ((0, 0), (0, int(0.4 * rate) + 1 - clip.frames)))
    want = pyloudnorm.Meter(rate).integrated_loudness(padded.T.astype(np.float64))
    assert meter.lufs() == pytest.approx(want, abs=0.05)
    assert peak.db() == pytest.approx(true_peak_db(clip), abs=1e-6)


def test_streamed_normalisation_meets_the_target_like_the_whole_array_one():
    from engines.loudness import integrated_lufs, normalize_loudness, true_peak_db
    from engines.render import normalized
    from engines.stream import AudioStream

    clip = _programme(48_000, 2, 12.0, seed=3).scaled(3.0)  # gain alone would clip: limits
    stream, levels = normalized(AudioStream.from_clip(clip), -14.0, -1.0)
    out = stream.clip()
    whole = normalize_loudness(clip, -14.0, -1.0)
    assert integrated_lufs(out) == pytest.approx(levels.lufs, abs=0.01)
    assert true_peak_db(out) == pytest.approx(levels.true_peak_db, abs=0.01)
    assert levels.true_peak_db <= -1.0
    assert integrated_lufs(out) == pytest.approx(integrated_lufs(whole), abs=0.05)
    assert np.max(np.abs(out.samples - whole.samples)) < 1e-3


def test_mix_stream_reads_stored_takes_by_seeking(tmp_path):
    """Clips trimmed into a stored take, resampled and faded, render as the whole-take path
    does, and blocks can start anywhere."""
    import soundfile as sf

    from engines.mixing import MixClip, MixTrack, mix_stream, mixdown
    from engines.stream import FileSource

    take = _programme(44_100, 1, 30.0, seed=5)
    path = tmp_path / "take.wav"
    sf.write(path, take.samples.T, 44_100, subtype="FLOAT")
    rate = 48_000

    def tracks(audio):
        return [MixTrack([MixClip(audio, start=1000, offset=0, length=25 * rate, gain_db=-3.0,
                                  fade_in=rate, fade_out=2 * rate)], pan=0.3),
                MixTrack([MixClip(audio, start=5 * rate, offset=2 * rate, length=3 * rate)])]

    from_file = mix_stream(tracks(FileSource(path)), rate, 2).clip()
    in_memory = mixdown(tracks(take), rate, 2)
    assert from_file.frames == in_memory.frames == 1000 + 25 * rate
    assert np.max(np.abs(from_file.samples - in_memory.samples)) < 1e-6
    # A range that starts inside a resampled clip (playback from the playhead).
    part = mixdown(tracks(FileSource(path)), rate, 2, start=7 * rate + 17, end=9 * rate)
    assert np.max(np.abs(part.samples - in_memory.samples[:, 7 * rate + 17 : 9 * rate])) < 1e-3


def test_streamed_watermark_is_read_back(monkeypatch):
    """A mix longer than one window is marked window by window and the mark is found."""
    from engines import watermark
    from engines.stream import AudioStream

    monkeypatch.setattr(watermark, "WINDOW_SECONDS", 8.0)
    clip = _programme(48_000, 2, 21.0, seed=7).scaled(0.5)
    marked = watermark.embed_stream(AudioStream.from_clip(clip))
    out = marked.clip()
    assert out.frames == clip.frames
    assert watermark.raw_score_stream(AudioStream.from_clip(out)) >= watermark.THRESHOLD
    assert watermark.raw_score_stream(AudioStream.from_clip(out)) == pytest.approx(
        watermark.raw_score(out), abs=1e-3
    )


def test_a_long_export_with_generated_audio_is_watermarked_window_by_window(tmp_path, monkeypatch):
    """The long path of export (mixes past IN_MEMORY_SECONDS) marks the mix, writes the
    score into the tags, and leaves no spooled file behind."""
    import tempfile

    from desktop.project import provenance
    from desktop.project.export import export_project
    from desktop.project.store import Project
    from engines import watermark
    from engines.audio_io import read_audio
    from engines.provenance import Provenance
    from engines.tags import read_tags

    monkeypatch.setattr(provenance, "IN_MEMORY_SECONDS", 5.0)
    monkeypatch.setattr(watermark, "WINDOW_SECONDS", 8.0)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "spool"))
    (tmp_path / "spool").mkdir()
    with Project.create(tmp_path / "gen") as project:
        clip = _programme(48_000, 2, 20.0, seed=11).scaled(0.5)
        project.add_take(clip, "noise", "music", Provenance(engine="standin"), place_on_track=None)
        from desktop.project.timeline import Timeline

        timeline = Timeline(project)
        timeline.add_clip(timeline.add_track("gen"), project.takes()[0].id, 0)
        result = export_project(project, tmp_path / "mix.wav", lufs=-16.0)
    back = read_audio(result.path)
    assert back.frames == clip.frames
    assert watermark.raw_score(back) >= watermark.THRESHOLD
    document = read_tags(result.path).provenance
    assert document["watermarked"] is True
    assert document["watermark_score"] >= watermark.THRESHOLD
    assert list((tmp_path / "spool").iterdir()) == []


def test_imports_past_4_gib_are_stored_as_rf64_and_read_back(tmp_path, monkeypatch):
    """A plain WAV's sizes end at 4 GiB; past that the store writes RF64 (simulated here
    with a lower limit), which the reader and the seeking mixer both take."""
    import soundfile as sf

    from engines import stream
    from engines.audio_io import read_audio
    from engines.blobs import put_audio_file

    monkeypatch.setattr(stream, "WAV_LIMIT_BYTES", 1000)
    clip = _programme(16_000, 1, 2.0).scaled(0.2)  # inside ±1: a 24-bit file holds it
    source = tmp_path / "in.flac"
    sf.write(source, clip.samples.T, 16_000, subtype="PCM_24")
    stored = put_audio_file(source, tmp_path / "audio", lambda sha: tmp_path / "audio" / f"{sha}.wav")
    path = tmp_path / "audio" / f"{stored.sha256}.wav"
    assert path.read_bytes()[:4] == b"RF64"
    assert stored.frames == clip.frames
    assert np.allclose(read_audio(path).samples, stream.FileSource(path).read(0, clip.frames), atol=0)
    assert np.max(np.abs(read_audio(path).samples - clip.samples)) < 1e-6


def test_mix_stream_samples_do_not_depend_on_block_length():
    """Playback mixes in short blocks, export in long ones: they must give the same samples,
    a resampled clip with fades and a pan included."""
    from engines.mixing import MixClip, MixTrack, mix_stream

    take = _programme(44_100, 2, 0.7, seed=3)
    tracks = [MixTrack([MixClip(take, 1_000, 500, 20_000, -3.0, 700, 900)], pan=0.3)]
    whole = np.concatenate(list(mix_stream(tracks, 48_000, 2).blocks()), axis=1)
    short = list(mix_stream(tracks, 48_000, 2, block=777).blocks())
    assert max(b.shape[1] for b in short) == 777
    assert np.array_equal(np.concatenate(short, axis=1), whole)
