"""Writing outputs: a full or read-only disk, a folder or a device as the target, a killed
write's leftovers and odd model folders each give one line, a non-zero exit and no partial
file (engines.files.atomic_write and the CLI's run_guarded)."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from desktop.project.store import Project
from engines.files import PART_SUFFIX, CannotWrite, atomic_write, remove_stale_parts
from tests.conftest import REPO
from tests.foundation.test_cli_bad_input import one_clear_line, state

SPEECH = "This sentence is long enough that its audio does not fit in sixty-four kilobytes."
# espeak-ng writes this as ~190 kB of 16-bit audio, which must fit; the 24-bit output
# (~280 kB) and the project's float copy (~1.6 MB) must not.
SPEECH_LIMIT = 230_000


@pytest.fixture
def proj(tmp_path, make_wav, timbre_cli):
    path = tmp_path / "show.timbre"
    assert timbre_cli("project", "new", path).returncode == 0
    assert timbre_cli("import", path, make_wav("intro.wav")).returncode == 0
    return path


def cli(*args, **limits) -> subprocess.CompletedProcess:
    """``timbre ARGS`` in a child (see :func:`child`)."""
    return child("-m", "desktop.cli.main", *args, **limits)


def child(*args, file_limit: int | None = None, umask: int | None = None, timeout: float = 300,
          user: int | None = None) -> subprocess.CompletedProcess:
    """``python ARGS`` in a child, optionally with a file-size limit (a full disk as the
    child sees it: writes past it fail with EFBIG), a umask, or as another user."""

    def setup() -> None:
        if umask is not None:
            os.umask(umask)
        if file_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    if file_limit is not None:  # espeak-ng's audio library would size a 64 MB shared buffer
        conf = Path(tempfile.mkdtemp(prefix="timbre-pulse-")) / "client.conf"
        conf.write_text("enable-shm = no\nenable-memfd = no\nautospawn = no\n")
        env["PULSE_CLIENTCONFIG"] = str(conf)
    prefix = [] if user is None else ["setpriv", f"--reuid={user}", f"--regid={user}",
                                      "--clear-groups"]
    return subprocess.run(
        [*prefix, sys.executable, *map(str, args)],
        capture_output=True, text=True, timeout=timeout, cwd=REPO, preexec_fn=setup, env=env,
    )


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((PART_SUFFIX, ".part")))


def espeak_available() -> bool:
    from engines.registry import engine_infos

    return any(i.name == "espeak" and i.available for i in engine_infos("speech"))


needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")


# ---- full disk ------------------------------------------------------------------------
def test_export_to_a_full_disk_is_one_line_and_leaves_nothing(proj, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    before = state(proj)
    line = one_clear_line(cli("export", proj, "-o", out_dir / "mix.wav", file_limit=200_000))
    assert "mix.wav" in line and ("full" in line or "No room" in line), line
    assert list(out_dir.iterdir()) == []  # no partial file, no temporary file
    assert state(proj) == before


@needs_espeak
def test_speak_to_a_full_disk_leaves_no_file_and_no_empty_track(proj, tmp_path):
    out = tmp_path / "speech.wav"
    line = one_clear_line(cli("speak", SPEECH, "--engine", "espeak", "-o", out,
                              file_limit=SPEECH_LIMIT))
    assert "speech.wav" in line and ("full" in line or "No room" in line), line
    assert not out.exists() and leftovers(tmp_path) == []

    before = state(proj)
    audio = sorted(p.name for p in (proj / "audio").iterdir())
    line = one_clear_line(cli("speak", SPEECH, "--engine", "espeak", "--project", proj,
                              file_limit=SPEECH_LIMIT))
    assert "full" in line or "No room" in line, line
    assert state(proj) == before  # no empty track, no take
    assert sorted(p.name for p in (proj / "audio").iterdir()) == audio


@needs_espeak
def test_speak_into_a_project_still_places_the_take(proj):
    result = cli("speak", "Hello there.", "--engine", "espeak", "--project", proj)
    assert result.returncode == 0, result.stderr
    with Project.open(proj) as p:
        track = p.tracks()[-1]
        clips = p.clips(track.id)
        assert len(clips) == 1 and clips[0].take_id == p.takes()[-1].id


# ---- read-only folders ----------------------------------------------------------------
def test_read_only_output_folder(proj):
    """Root ignores a folder's mode, so as root the child drops to nobody (setpriv); as
    another user the 0o555 folder alone is read-only."""
    user = None
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: a read-only mode cannot stop root")
        user = 65534
    base = Path(tempfile.mkdtemp(prefix="timbre-ro-"))  # outside pytest's 0700 tree
    try:
        shutil.copytree(proj, base / "show.timbre")
        ro = base / "readonly"
        ro.mkdir()
        for root, dirs, files in os.walk(base):
            for name in [*dirs, *files]:
                if user is not None:
                    os.chown(os.path.join(root, name), user, user)
        os.chmod(base, 0o755)
        os.chmod(ro, 0o555)
        line = one_clear_line(cli("export", base / "show.timbre", "-o", ro / "mix.wav",
                                  user=user))
        assert "read-only" in line and "mix.wav" in line, line
        assert list(ro.iterdir()) == []
    finally:
        os.chmod(base / "readonly", 0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_read_only_disk_error_is_not_hidden_by_clean_up(tmp_path, monkeypatch):
    """EROFS (a read-only mount) cannot be made without privileges: the write raises it,
    and removing the temporary file fails with it too, as on a real read-only disk."""

    def refuse(*_args, **_kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    target = tmp_path / "out.wav"
    with pytest.raises(CannotWrite, match="read-only") as caught:
        with atomic_write(target) as tmp:
            monkeypatch.setattr(Path, "unlink", refuse)
            raise OSError(errno.EROFS, "Read-only file system", str(tmp))
    assert "out.wav" in str(caught.value) and "timbre-part" not in str(caught.value)


# ---- targets that are not files -------------------------------------------------------
def test_a_folder_as_output_is_refused(proj, tmp_path):
    folder = tmp_path / "FOLDER.wav"
    folder.mkdir()
    line = one_clear_line(cli("export", proj, "-o", folder))
    assert "is a folder" in line, line
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_devices_and_fifos_are_refused_and_stay_what_they_were(proj, tmp_path):
    """Only things in tmp_path are offered here (a link to /dev/null is replaced, not
    /dev/null, should the refusal regress); /dev/null itself is the next test's."""
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    to_fifo = tmp_path / "to-pipe.wav"
    to_fifo.symlink_to(fifo)
    to_null = tmp_path / "null.wav"
    to_null.symlink_to("/dev/null")
    for target in (fifo, to_fifo, to_null):
        line = one_clear_line(cli("export", proj, "-o", target, timeout=120))
        assert "not a regular file" in line, line
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert to_fifo.is_symlink() and to_null.is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert leftovers(tmp_path) == []


@needs_espeak
def test_dev_null_is_refused_before_speaking():
    """Run as an unprivileged user (nobody, when the tests run as root), who cannot replace
    /dev/null even if the refusal regressed: a failing test must not break the machine."""
    user = None
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("as root without setpriv a regression would replace /dev/null")
        user = 65534
    line = one_clear_line(cli("speak", "Hi.", "--engine", "espeak", "-o", "/dev/null",
                              user=user, timeout=120))
    assert "/dev/null is a device, not a regular file" in line, line
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


# ---- where and how outputs are written ------------------------------------------------
def test_missing_folders_are_created_and_the_mode_follows_the_umask(proj, tmp_path):
    out = tmp_path / "new" / "sub" / "dir" / "out.wav"
    result = cli("export", proj, "-o", out, umask=0o022)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    result = cli("export", proj, "-o", out, umask=0o002)  # replacing it takes the mode anew
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o664
    assert sf.info(out).frames > 0 and leftovers(out.parent) == []


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=60)
    return child.pid


def test_stale_temporary_files_are_removed_on_the_next_write(proj, tmp_path):
    stale = tmp_path / f".mix.wav.{dead_pid()}-0{PART_SUFFIX}"
    stale.write_bytes(b"\0" * 4096)
    stale_dir = tmp_path / f".abc.{dead_pid()}-3{PART_SUFFIX}"  # a killed model import
    stale_dir.mkdir()
    (stale_dir / "state_dict.bin").write_bytes(b"x")
    live = tmp_path / f".other.wav.{os.getpid()}-0{PART_SUFFIX}"  # its writer still runs
    live.write_bytes(b"\0")
    legacy = tmp_path / ".mix-abcd1234.wav.part"  # an earlier version's name, a day old
    legacy.write_bytes(b"\0")
    os.utime(legacy, (time.time() - 2 * 86400,) * 2)
    unrelated = tmp_path / ".notes.part"
    unrelated.write_bytes(b"keep")
    result = cli("export", proj, "-o", tmp_path / "mix.wav")
    assert result.returncode == 0, result.stderr
    assert not stale.exists() and not stale_dir.exists() and not legacy.exists()
    assert live.exists() and unrelated.exists()
    assert remove_stale_parts(tmp_path) == []


# ---- other one-line failures ----------------------------------------------------------
def test_podcast_master_of_one_sample_is_one_line(tmp_path):
    one = tmp_path / "one.wav"
    sf.write(one, np.full((1, 1), 0.1, np.float32), 48_000)
    line = one_clear_line(cli("podcast", "master", one, "-o", tmp_path / "ep.wav", timeout=120))
    assert "0.00 s long" in line, line
    assert not (tmp_path / "ep.wav").exists()


IMPORT_FOLDER = """
import sys
from pathlib import Path

from engines import modelstore
from engines.errors import EngineError

try:
    modelstore.import_folder(Path(sys.argv[1]), sys.argv[2])
except EngineError as exc:
    sys.exit(f"timbre: {exc}")
"""


@pytest.mark.parametrize("odd", ["dev-zero", "fifo", "folder-link", "broken-link"])
def test_model_folders_with_special_files_are_refused_quickly(tmp_path, odd):
    """Run in a child with a 20 MB file-size limit and a timeout, so that a regression
    (copying /dev/zero, or blocking on the FIFO) fails the test instead of filling the disk."""
    from engines import modelstore

    src = tmp_path / "my-model"
    src.mkdir()
    (src / "config.json").write_text("{}")
    if odd == "dev-zero":
        (src / "state_dict.bin").symlink_to("/dev/zero")
    elif odd == "fifo":
        os.mkfifo(src / "state_dict.bin")
    elif odd == "folder-link":
        (src / "loop").symlink_to(src)
    else:
        (src / "state_dict.bin").symlink_to(tmp_path / "gone")
    repo = f"local/odd-{odd}"
    started = time.monotonic()
    # What the studio's model manager calls (the CLI checks the checkpoint files first).
    result = child("-c", IMPORT_FOLDER, src, repo, file_limit=20_000_000, timeout=60)
    assert time.monotonic() - started < 30
    line = one_clear_line(result)
    assert "my-model" in line and ("state_dict.bin" in line or "loop" in line), line
    assert modelstore.snapshot_path(repo) is None
    assert not any(modelstore.repo_folder(repo).rglob("state_dict.bin"))


def test_model_folder_links_to_regular_files_are_copied(tmp_path):
    """A hub-cache snapshot links into ../../blobs: links to regular files stay accepted."""
    from engines import modelstore

    blobs = tmp_path / "blobs"
    blobs.mkdir()
    (blobs / "abc").write_bytes(b"weights")
    src = tmp_path / "snap"
    src.mkdir()
    (src / "model.bin").symlink_to(blobs / "abc")
    model = modelstore.import_folder(src, "local/linked")
    copied = model.path / "model.bin"
    assert not copied.is_symlink() and copied.read_bytes() == b"weights"
    assert leftovers(model.path.parent) == []


def test_database_errors_are_one_line(capsys):
    import argparse
    import sqlite3

    from desktop.cli.common import run_guarded

    for message, words in (("database or disk is full", "disk is full"),
                           ("database is locked", "busy"),
                           ("attempt to write a readonly database", "read-only")):
        def fail(_args, message=message):
            raise sqlite3.OperationalError(message)

        assert run_guarded(fail, argparse.Namespace()) == 1
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and words in err, err

    def unknown(_args):
        raise sqlite3.OperationalError("no such table: nonsense")

    with pytest.raises(sqlite3.OperationalError):  # a bug stays a traceback
        run_guarded(unknown, argparse.Namespace())


def test_music_keeps_library_bars_and_warnings_off_the_terminal(tmp_path):
    out = tmp_path / "new" / "dir"
    result = cli("music", "a test", "--model", "debug", "--duration", "1", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "it/s]" not in result.stderr and "%|" not in result.stderr, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert len(list(out.glob("music-*.wav"))) == 1
