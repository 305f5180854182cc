"""Phone and video-call recordings import: M4A/AAC, Opus, WebM, MP4 with video, AIFF.

The test files are encoded here with PyAV itself (a 1 s sine), so no fixtures are stored;
each import is checked for length (within a codec's padding), pitch, rate and channels.
"""

from __future__ import annotations

import av
import numpy as np
import pytest
import soundfile as sf

from desktop.project.store import Project
from engines.audio_io import read_audio
from engines.errors import BadInput

FREQ = 440.0
SECONDS = 1.0


def sine(rate: int, channels: int) -> np.ndarray:
    t = np.arange(int(rate * SECONDS)) / rate
    return np.tile(0.5 * np.sin(2 * np.pi * FREQ * t), (channels, 1)).astype(np.float32)


def encode(path, codec: str, rate: int, channels: int, video: bool = False):
    """A 1 s sine encoded with PyAV (and a tiny black video stream first, if asked)."""
    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(path), "w") as out:
        if video:
            vstream = out.add_stream("mpeg4", rate=10)
            vstream.width, vstream.height, vstream.pix_fmt = 32, 32, "yuv420p"
        stream = out.add_stream(codec, rate=rate, layout=layout)
        data = sine(rate, channels)
        for start in range(0, data.shape[1], 4800):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(data[:, start:start + 4800]), format="fltp", layout=layout
            )
            frame.sample_rate = rate
            frame.pts = start
            out.mux(stream.encode(frame))
            if video and start % 4800 == 0:
                picture = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
                picture.pts = start // 4800
                out.mux(vstream.encode(picture))
        out.mux(stream.encode(None))
        if video:
            out.mux(vstream.encode(None))
    return path


def peak_hz(samples: np.ndarray, rate: int) -> float:
    mono = samples.mean(axis=0)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    return float(np.fft.rfftfreq(len(mono), 1 / rate)[np.argmax(spectrum)])


CASES = {  # name: (codec or None for AIFF via soundfile, rate, channels)
    "call.m4a": ("aac", 44_100, 2),
    "voice.opus": ("libopus", 48_000, 1),
    "meeting.webm": ("libopus", 48_000, 2),
    "memo.ogg": ("libopus", 48_000, 1),
    "take.aiff": (None, 44_100, 2),
}


def make(tmp_path, name: str):
    codec, rate, channels = CASES[name]
    path = tmp_path / name
    if codec is None:
        sf.write(path, sine(rate, channels).T, rate, format="AIFF", subtype="PCM_16")
        return path
    return encode(path, codec, rate, channels)


@pytest.mark.parametrize("name", list(CASES))
def test_recordings_import_at_their_own_rate_and_pitch(tmp_path, name):
    _, rate, channels = CASES[name]
    path = make(tmp_path, name)
    clip = read_audio(path)
    assert (clip.sample_rate, clip.channels) == (rate, channels)
    assert abs(clip.duration - SECONDS) < 0.05
    assert abs(peak_hz(clip.samples, rate) - FREQ) < 3
    assert 0.4 < clip.peak < 0.6
    with Project.create(tmp_path / "show.timbre") as p:
        take, _, _ = p.import_file(path)
        assert abs(take.duration - SECONDS) < 0.05
        stored = read_audio(p.audio_path(take.audio_sha256))
        assert (stored.sample_rate, stored.channels) == (rate, channels)
        assert np.allclose(stored.samples, clip.samples, atol=1e-6)


def test_cli_imports_a_video_call_and_refuses_video_only_and_cut_off_files(tmp_path, timbre_cli):
    call = encode(tmp_path / "call.mp4", "aac", 48_000, 2, video=True)
    silent = tmp_path / "screen.mp4"
    with av.open(str(silent), "w") as out:
        v = out.add_stream("mpeg4", rate=10)
        v.width, v.height, v.pix_fmt = 32, 32, "yuv420p"
        for i in range(5):
            picture = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            picture.pts = i
            out.mux(v.encode(picture))
        out.mux(v.encode(None))
    m4a = make(tmp_path, "call.m4a")
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(m4a.read_bytes()[: m4a.stat().st_size // 2])
    show = tmp_path / "show.timbre"
    assert timbre_cli("project", "new", show).returncode == 0
    done = timbre_cli("import", show, call)
    assert done.returncode == 0, done.stderr
    for path, words in ((silent, "no sound track"), (cut, "not an audio file")):
        result = timbre_cli("import", show, path)
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        assert result.returncode == 1 and len(lines) == 1, result.stderr
        assert words in lines[0] and path.name in lines[0], lines[0]
    with Project.open(show) as p:
        (take,) = p.takes()
        assert abs(take.duration - SECONDS) < 0.05
        clip = read_audio(p.audio_path(take.audio_sha256))
        assert (clip.sample_rate, clip.channels) == (48_000, 2)
        assert abs(peak_hz(clip.samples, 48_000) - FREQ) < 3


def test_blocks_are_bounded_and_cover_the_file(tmp_path):
    from engines.audio_io import open_audio

    path = make(tmp_path, "call.m4a")
    with open_audio(path) as reader:
        assert abs(reader.frames - 44_100) < 44_100 * 0.05  # the container's duration
        sizes = [len(b) for b in reader.blocks(10_000, dtype="float32", always_2d=True)]
    assert max(sizes) == 10_000 and all(s == 10_000 for s in sizes[:-1])
    assert abs(sum(sizes) - 44_100) < 44_100 * 0.05


def test_a_text_file_named_m4a_is_refused_in_one_line(tmp_path):
    path = tmp_path / "notes.m4a"
    path.write_text("not a recording\n" * 50)
    with pytest.raises(BadInput, match="notes.m4a is not an audio file"):
        read_audio(path)


def test_length_limits_read_the_container_duration(tmp_path):
    """Voice references are refused by length before decoding; that works for M4A too."""
    from engines.audio_limits import check_length, header_duration

    path = make(tmp_path, "call.m4a")
    assert header_duration(path) == pytest.approx(SECONDS, abs=0.05)
    with pytest.raises(BadInput, match="call.m4a is 1 s long"):
        check_length(path, 0.5, "a test clip", "Trim it.")


def test_dialogs_offer_what_import_reads():
    from engines.audio_io import IMPORT_EXTENSIONS, import_filter

    for ext in ("m4a", "opus", "webm", "mp4", "mov", "mkv", "aiff", "wma"):
        assert ext in IMPORT_EXTENSIONS and f"*.{ext}" in import_filter()


@pytest.mark.parametrize("fmt", ["opus", "m4a"])
def test_export_writes_opus_and_m4a_with_tags(tmp_path, timbre_cli, fmt):
    from engines.tags import read_tags

    show = tmp_path / "show.timbre"
    assert timbre_cli("project", "new", show).returncode == 0
    assert timbre_cli("import", show, make(tmp_path, "take.aiff")).returncode == 0
    out = tmp_path / f"mix.{fmt}"
    done = timbre_cli("export", show, "-o", out, "--format", fmt)
    assert done.returncode == 0, done.stderr
    clip = read_audio(out)
    assert clip.sample_rate == 48_000 and clip.channels == 2
    assert abs(clip.duration - SECONDS) < 0.05
    assert abs(peak_hz(clip.samples, clip.sample_rate) - FREQ) < 3
    tags = read_tags(out)
    assert tags.provenance is not None and tags.fields["title"] == "show"
