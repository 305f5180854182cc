"""speech-dispatcher speaks through ``timbre serve`` with the generic module in
packaging/speech-dispatcher: ``spd-say`` → a speech-dispatcher started here with only that
module → timbre-spd-speak → the local endpoint; the audio is captured to a file. Skipped
where speech-dispatcher is not installed (apt-get install speech-dispatcher)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.conftest import REPO

MODULE = REPO / "packaging" / "speech-dispatcher"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800), pytest.mark.skipif(
    shutil.which("spd-say") is None or not os.path.exists("/usr/lib/speech-dispatcher-modules/sd_generic"),
    reason="speech-dispatcher is not installed",
)]


def test_spd_say_speaks_through_the_timbre_module(tmp_path):
    import soundfile as sf

    from engines.serving.speech_api import serve_in_thread

    server = serve_in_thread()
    config = tmp_path / "config" / "speech-dispatcher"
    (config / "modules").mkdir(parents=True)
    shutil.copyfile(MODULE / "timbre-generic.conf", config / "modules" / "timbre-generic.conf")
    (config / "speechd.conf").write_text(
        'AddModule "timbre" "sd_generic" "timbre-generic.conf"\n'
        "DefaultModule timbre\n"
        'AudioOutputMethod "libao"\n'
        f'LogDir "{tmp_path}"\n'
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(MODULE / "timbre-spd-speak", bin_dir / "timbre-spd-speak")
    capture = tmp_path / "heard.wav"
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_RUNTIME_DIR": str(runtime),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "TIMBRE_SERVE_URL": server.url,
        "TIMBRE_SPD_CAPTURE": str(capture),
    }
    daemon = subprocess.Popen(
        ["speech-dispatcher", "--spawn", "--timeout", "60", "--config-dir", str(config)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        time.sleep(1.0)
        said = subprocess.run(
            ["spd-say", "--wait", "-o", "timbre", "-y", "joe", "Hello from speech dispatcher."],
            env=env, capture_output=True, text=True, timeout=180,
        )
        deadline = time.monotonic() + 120
        while not capture.is_file() and time.monotonic() < deadline:
            time.sleep(0.5)
        logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in tmp_path.glob("*.log"))
        assert capture.is_file(), f"{said.stdout}{said.stderr}\n{logs}"
        info = sf.info(str(capture))
        assert info.samplerate == 22050 and info.duration > 0.8
    finally:
        subprocess.run(["spd-say", "-C"], env=env, capture_output=True, timeout=30)
        daemon.kill()
        daemon.communicate(timeout=30)
        for pidfile in runtime.glob("speech-dispatcher/pid/*"):  # the daemon it forked
            try:
                os.kill(int(pidfile.read_text().split()[0]), 15)
            except (OSError, ValueError, IndexError):
                pass
        server.shutdown()
        server.server_close()
