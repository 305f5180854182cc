"""A local stand-in for the hub serving Piper's voices.json and the voice files it lists.

Two voices in Piper's published layout: the shipped joe under a catalog key of its own
(a real voice that speaks) and a tiny German one whose bytes are not a model (for listing,
filtering, checksums and resuming, fast).
"""

from __future__ import annotations

import hashlib
import json

from tests.music.fake_hub import FakeHub

REPO = "rhasspy/piper-voices"
JOE_KEY = "en_US-testjoe-medium"
TINY_KEY = "de_DE-tiny-low"
TINY_CARD = b"# Model card for tiny (low)\n\n## Dataset\n\n* URL: nowhere\n* License: CC-BY-4.0\n"


def _entry(key: str, name: str, lang: dict, quality: str, files: dict[str, bytes]) -> dict:
    family, region = lang["code"].split("_")
    folder = f"{family}/{lang['code']}/{name}/{quality}"
    return {
        "key": key, "name": name, "quality": quality, "num_speakers": 1, "speaker_id_map": {},
        "language": {"family": family, "region": region, **lang},
        "files": {f"{folder}/{fname}": {"size_bytes": len(data), "md5_digest": hashlib.md5(data).hexdigest()}
                  for fname, data in files.items()},
        "aliases": [key.lower().replace("_", "-")],
    }


def piper_hub() -> FakeHub:
    from engines.speech.piper_engine import bundled_model

    joe = bundled_model()
    joe_files = {f"{JOE_KEY}.onnx": joe.read_bytes(),
                 f"{JOE_KEY}.onnx.json": joe.with_name(joe.name + ".json").read_bytes(),
                 "MODEL_CARD": (joe.parent / "MODEL_CARD").read_bytes()}
    tiny_files = {f"{TINY_KEY}.onnx": bytes(range(256)) * 1024, f"{TINY_KEY}.onnx.json": b"{}",
                  "MODEL_CARD": TINY_CARD}
    us = {"code": "en_US", "name_native": "English", "name_english": "English",
          "country_english": "United States"}
    de = {"code": "de_DE", "name_native": "Deutsch", "name_english": "German",
          "country_english": "Germany"}
    catalog = {JOE_KEY: _entry(JOE_KEY, "testjoe", us, "medium", joe_files),
               TINY_KEY: _entry(TINY_KEY, "tiny", de, "low", tiny_files)}
    fake = FakeHub()
    files = {"voices.json": json.dumps(catalog).encode()}
    for key, fset in ((JOE_KEY, joe_files), (TINY_KEY, tiny_files)):
        for path in catalog[key]["files"]:
            files[path] = fset[path.rsplit("/", 1)[-1]]
    fake.repos[REPO] = files
    return fake
