"""Packaging checks that run without building anything (the build itself: make package,
make package-test): the lock covers every requirement, the bundle's data list names installed
packages, the Linux desktop files agree with each other, Whisper's parts are checksummed."""

from __future__ import annotations

import configparser
import importlib.metadata as md
import importlib.util
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "packaging"))

import bundle_contents  # noqa: E402
import lock  # noqa: E402

LINUX = REPO / "packaging" / "linux"


def test_every_requirement_is_locked_with_hashes():
    assert lock.stale() == [], "run `make lock`"
    for path in (lock.LOCK, lock.NODEPS_LOCK):
        text = path.read_text()
        pins = lock.locked(path)
        assert pins and text.count("--hash=sha256:") >= len(pins), path.name
    pins = lock.locked(lock.LOCK)
    assert pins["torch"].startswith("2.13.0")
    # the CUDA builds and what only the --no-deps packages declare are never locked
    assert not {"torchaudio", "torchvision", "xformers", "spacy"} & pins.keys()
    assert not set(lock.locked(lock.NODEPS_LOCK)) & pins.keys()


def test_stale_lock_is_reported(tmp_path, monkeypatch):
    """A package added to runtime.txt without `make lock` stops make setup with a clear line."""
    req = tmp_path / "requirements"
    shutil.copytree(lock.REQ, req)
    with (req / "runtime.txt").open("a") as f:
        f.write("brand-new-package==1.0\n")
    monkeypatch.setattr(lock, "REQ", req)
    monkeypatch.setattr(lock, "LOCK", req / "lock.txt")
    monkeypatch.setattr(lock, "NODEPS_LOCK", req / "nodeps.lock.txt")
    assert lock.stale() == ["brand-new-package (runtime.txt) is not in lock.txt"]
    assert lock.check_main() == 1


def test_bundle_data_packages_are_installed_and_named_portably():
    for name in bundle_contents.DATA_PACKAGES:
        assert importlib.util.find_spec(name) is not None, name
    for dist in bundle_contents.METADATA_EXTRA:
        assert md.distribution(dist).files, dist
    # import names and distribution names only: no paths, so the spec works on every OS
    for name in (*bundle_contents.DATA_PACKAGES, *bundle_contents.METADATA_EXTRA,
                 *bundle_contents.EXCLUDES):
        assert "/" not in name and "\\" not in name
    assert {"torchaudio", "torchvision", "xformers"} <= set(bundle_contents.EXCLUDES)


def test_desktop_entry_mime_and_metainfo_agree():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(LINUX / "timbre-studio.desktop")
    desk = entry["Desktop Entry"]
    mime = ET.parse(LINUX / "timbre-studio-mime.xml").getroot()
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    kind = mime.find("m:mime-type", ns)
    assert kind.get("type") in desk["MimeType"].split(";")
    assert kind.find("m:glob", ns).get("pattern") == "*.timbre"
    assert desk["Exec"].split()[0] == "timbre" and "%f" in desk["Exec"]
    assert (REPO / "resources" / "icons" / f"{desk['Icon']}.svg").is_file()
    meta = ET.parse(LINUX / "io.github.timbre_studio.TimbreStudio.metainfo.xml").getroot()
    assert meta.findtext("project_license") == "GPL-3.0-or-later"
    assert meta.find("launchable").text == "timbre-studio.desktop"
    if shutil.which("appstreamcli"):
        done = subprocess.run(["appstreamcli", "validate", "--no-net", str(
            LINUX / "io.github.timbre_studio.TimbreStudio.metainfo.xml")], capture_output=True)
        assert done.returncode == 0, done.stdout.decode()


def test_icon_png_sizes_exist():
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        png = REPO / "resources" / "icons" / f"timbre-studio-{size}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(png.read_bytes()[16:20], "big") == size


def test_whisper_parts_join_checked(tmp_path, monkeypatch):
    """The shipped halves join into the recorded model; a damaged half is refused, not stored."""
    from engines import modelstore
    from engines.errors import ModelMissing
    from engines.voices import transcribe

    if transcribe.unavailable_reason():
        pytest.skip(transcribe.unavailable_reason())
    real = {p: transcribe._package_data(p) for p in transcribe._PARTS}
    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "models"))
    bad = tmp_path / "bad"
    shutil.copytree(real[transcribe._PARTS[0]], bad / "one")
    (bad / "two").mkdir(parents=True)
    (bad / "two" / "model.bin.part2").write_bytes(b"not the second half")
    monkeypatch.setattr(transcribe, "_package_data",
                        lambda p: bad / ("one" if p.endswith("1") else "two"))
    with pytest.raises(ModelMissing, match="checksum"):
        transcribe.model_dir()
    assert modelstore.snapshot_path(transcribe.REPO_ID) is None
    monkeypatch.setattr(transcribe, "_package_data", real.__getitem__)
    folder = transcribe.model_dir()
    assert (folder / "model.bin").stat().st_size == sum(
        (real[p] / f"model.bin.part{i}").stat().st_size
        for i, p in enumerate(transcribe._PARTS, 1))


def test_models_download_says_the_licence_first(timbre_cli):
    """Before a byte is fetched the user reads that MusicGen weights are non-commercial."""
    done = timbre_cli("models", "download", "musicgen-small", timeout=120)
    assert "MusicGen weights: CC-BY-NC 4.0 — not for commercial use" in done.stdout


def test_third_party_licences_are_written_into_the_bundle(tmp_path):
    """Each bundled package's licence text goes into THIRD-PARTY-LICENSES/, listed in a README
    with its licence and the models' licences (MusicGen's non-commercial one spelt out)."""
    import third_party_licences

    internal = tmp_path / "bundle" / "_internal"
    internal.mkdir(parents=True)
    dist = md.distribution("piper-tts")
    info = Path(str(dist.locate_file(""))) / next(
        str(f).split("/")[0] for f in dist.files if ".dist-info/" in str(f))
    shutil.copytree(info, internal / info.name)
    bare = internal / "bare-1.0.dist-info"
    bare.mkdir()
    (bare / "METADATA").write_text("Metadata-Version: 2.1\nName: bare\nVersion: 1.0\n"
                                   "License: Do what you like\n")
    assert third_party_licences.main(tmp_path / "bundle") == 0
    out = tmp_path / "bundle" / "THIRD-PARTY-LICENSES"
    readme = (out / "README.txt").read_text()
    assert "GPL-3.0-or-later" in readme and "piper-tts" in readme
    assert "MusicGen weights: CC-BY-NC 4.0 — not for commercial use" in readme
    piper_files = list((out / f"piper-tts-{dist.version}").iterdir())
    assert any("GNU GENERAL PUBLIC LICENSE" in f.read_text(errors="replace") for f in piper_files)
    assert (out / "bare-1.0" / "LICENSE-from-metadata.txt").read_text() == "Do what you like\n"
