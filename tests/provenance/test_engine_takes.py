"""Takes from a real engine carry the watermark and the full provenance into the file."""

from __future__ import annotations

from engines.registry import create
from engines.speech.request import SpeechRequest
from engines.tags import provenance_document, read_tags, write_tagged
from engines.watermark import detect

CONSENT = {"statement": "I, Ada, agree ...", "phrase": "blue harbour", "similarity": 0.88,
           "threshold": 0.75, "transcript": "i ada agree", "recorded": "2026-11-20", "path": "c.wav"}


def test_speech_take_is_marked_and_its_consent_record_reaches_the_tags(perth, tmp_path):
    engine = create("espeak")
    engine.load(lambda p: None)
    request = SpeechRequest("Consent travels with every take.", voice="en-us", seed=5,
                            voice_label="Ada", consent=CONSENT)
    (take,) = engine.generate(request, lambda p: None)
    prov = take.provenance
    assert prov.watermarked and prov.engine == "espeak" and prov.model_version
    assert prov.voice == "Ada" and prov.consent == CONSENT and prov.seed == 5
    path = write_tagged(tmp_path / "ada.flac", take.clip, provenance_document([prov.to_dict()]))
    assert read_tags(path).provenance["takes"][0]["consent"] == CONSENT
    assert detect(take.clip).present
