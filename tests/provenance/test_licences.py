"""Licences (issue 18, part 4): ``timbre --licenses``, the model licence table, and the model
licence carried by each take's provenance and its exported file's tags."""

from __future__ import annotations

import importlib.metadata as md

from engines import licences
from engines.provenance import Provenance
from engines.tags import provenance_document, read_tags, summary


def test_cli_lists_app_gpl_component_torch_and_musicgen_licences(timbre_cli):
    r = timbre_cli("--licenses")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "licensed under GPL-3.0-or-later" in out
    assert "piper-tts: GPL-3.0-or-later" in out  # a GPL component, from its metadata
    torch_row = next(line for line in out.splitlines() if line.split()[:1] == ["torch"])
    assert md.metadata("torch")["License-Expression"] in torch_row
    assert "MusicGen weights: CC-BY-NC 4.0 — not for commercial use" in out


def test_package_licences_come_from_metadata():
    rows = {p.name.lower(): p for p in licences.installed_packages()}
    assert rows["pedalboard"].licence == "GPL-3.0"  # classifier, not its pasted GPL text
    assert rows["phonemizer"].licence == "GPL-3.0-or-later"
    assert rows["audiocraft"].licence == "MIT"
    assert rows["numpy"].version == md.version("numpy")


def test_model_table():
    assert licences.licence_for("musicgen", "facebook/musicgen-small") == "CC-BY-NC-4.0"
    assert licences.licence_for("audiogen", "facebook/audiogen-medium") == "CC-BY-NC-4.0"
    assert licences.licence_for("kokoro", "hexgrad/Kokoro-82M (kokoro-v1.0.int8.onnx)") == "Apache-2.0"
    assert licences.licence_for("chatterbox", "ResembleAI/chatterbox") == "MIT"
    assert licences.licence_for("espeak", "espeak-ng") == "GPL-3.0-or-later"
    assert licences.licence_for("plugin", "someone/else") == ""  # unknown: empty, never a guess
    joe = licences.model_licence("rhasspy/piper-voices:en_US-joe-medium")
    assert joe is not None and joe.licence == licences.distribution_licence(joe.package)


def test_old_provenance_dicts_still_load():
    old = {"engine": "musicgen", "model_id": "facebook/musicgen-small", "seed": 3}
    assert Provenance.from_dict(old).licence == ""


def test_comment_warns_of_non_commercial_licence():
    take = Provenance("musicgen", "facebook/musicgen-small", licence="CC-BY-NC-4.0").to_dict()
    assert "model licence: CC-BY-NC 4.0 — not for commercial use" in summary(provenance_document([take]))


def test_musicgen_take_and_its_file_carry_cc_by_nc(tmp_path):
    """Every engine's take passes finalize_take, which records the licence of its model."""
    import numpy as np

    from engines.audio import AudioClip
    from engines.tags import write_tagged
    from engines.watermark import finalize_take

    clip = AudioClip(np.zeros(3200, np.float32), 32000)
    take = finalize_take(clip, Provenance("musicgen", "facebook/musicgen-small"), watermark=False)
    assert take.provenance.licence == "CC-BY-NC-4.0"
    path = write_tagged(tmp_path / "t.flac", take.clip, provenance_document([take.provenance.to_dict()]))
    tags = read_tags(path)
    assert tags.provenance["takes"][0]["licence"] == "CC-BY-NC-4.0"
    assert "not for commercial use" in tags.fields["comment"]
