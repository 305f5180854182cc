"""``timbre music``/``sfx``/``models`` as a user runs them (tiny random models: noise)."""

from __future__ import annotations

from desktop.project.store import Project
from engines.audio_io import read_audio
from engines.tags import read_tags


def test_music_debug_model_writes_variations_and_adds_takes_to_project(
    timbre_cli, tmp_path, debug_hub
):
    project = tmp_path / "Song.timbre"
    assert timbre_cli("project", "new", project).returncode == 0
    out = tmp_path / "out"
    out.mkdir()
    r = timbre_cli(
        "music",
        "calm piano",
        "--model",
        "debug",
        "--duration",
        "1",
        "--variations",
        "2",
        "--seed",
        "4",
        "--project",
        project,
        "-o",
        out,
        "--no-watermark",
    )
    assert r.returncode == 0, r.stderr
    assert "tiny random model" in r.stdout and "noise" in r.stdout
    files = sorted(out.glob("music-calm-piano-4-*.wav"))
    assert len(files) == 2
    clip = read_audio(files[0])
    assert clip.sample_rate == 32000 and clip.frames == 32000
    tagged = read_tags(files[0]).provenance["takes"][0]
    assert tagged["engine"] == "musicgen" and tagged["seed"] == 4
    with Project.open(project) as p:
        takes = p.takes()
        assert [t.kind for t in takes] == ["music", "music"]
        assert takes[0].seed == 4 and takes[0].model_id == "timbre/musicgen-debug"
        assert takes[1].params["variation"] == 2
        job = p.jobs()[0]
        assert job.state == "done" and job.engine == "musicgen" and job.request["variations"] == 2


def test_sfx_loop_with_watermark_by_default(timbre_cli, tmp_path, debug_hub):
    r = timbre_cli(
        "sfx",
        "rain on a tin roof",
        "--model",
        "debug",
        "--duration",
        "1.5",
        "--loop",
        "--seed",
        "9",
        "-o",
        tmp_path,
        "--format",
        "flac",
    )
    assert r.returncode == 0, r.stderr
    (path,) = tmp_path.glob("sfx-rain-on-a-tin-roof-9-1.flac")
    clip = read_audio(path)
    assert clip.sample_rate == 16000 and clip.frames == 24000
    take = read_tags(path).provenance["takes"][0]
    assert take["params"]["loop"] is True and take["watermarked"] is True


def test_bad_input_is_one_line(timbre_cli, tmp_path):
    r = timbre_cli("music", "x", "--model", "debug", "--duration", "0", "-o", tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "Duration" in r.stderr
    r = timbre_cli("sfx", "x", "--model", "musicgen-small", "-o", tmp_path)
    assert r.returncode == 1 and "timbre music" in r.stderr


def test_models_list_and_offline_download_fails_in_one_line(timbre_cli):
    r = timbre_cli("models", "list")
    assert r.returncode == 0
    for name in ("musicgen-small", "musicgen-stereo-melody-large", "audiogen-medium", "debug"):
        assert name in r.stdout
    r = timbre_cli("models", "download", "musicgen-small", timeout=120)
    assert r.returncode == 1
    assert r.stderr.startswith("timbre: Cannot reach the Hugging Face hub") and r.stderr.strip().count("\n") == 0
    assert "Traceback" not in r.stderr


def test_models_import_list_remove(timbre_cli, tmp_path, debug_hub):
    import shutil

    from engines.music.tiny import MUSICGEN_DEBUG

    folder = debug_hub / ("models--" + MUSICGEN_DEBUG.replace("/", "--"))
    snapshot = folder / "snapshots" / (folder / "refs" / "main").read_text().strip()
    mine = tmp_path / "my-model"
    shutil.copytree(snapshot, mine)
    r = timbre_cli("models", "import", mine)
    assert r.returncode == 0, r.stderr
    assert "imported" in r.stdout and "--model local/my-model" in r.stdout
    assert "local/my-model" in timbre_cli("models", "list").stdout
    r = timbre_cli("models", "remove", "local/my-model")
    assert r.returncode == 0 and "removed local/my-model" in r.stdout
    r = timbre_cli("models", "remove", "local/my-model")
    assert r.returncode == 1 and "not installed" in r.stderr
    r = timbre_cli("models", "import", tmp_path / "nowhere")
    assert r.returncode == 1 and "not a folder" in r.stderr
