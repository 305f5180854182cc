"""Cloning without neural voice-conversion weights: the nearest voice of the engines that
ship here, post-processed toward the reference.

:func:`clone_reference` first scores the other engines' voices — Piper joe, every Piper
voice imported into the model store, espeak-ng's variants (:func:`other_bases`) — by the
Resemblyzer similarity of their plain output on the scoring sentences (cheap); the nearest
few that Whisper understands plainly get the same WORLD shift and equaliser as a Kokoro
clone (:func:`fit_and_check`, shared). A voice far from Kokoro's Japanese styles is often
much nearer one of these (held out, 240 s each, the Kokoro search alone → this: an
espeak-ng male voice with its own variant excluded 0.686 → 0.888, a female one 0.673 →
0.965, Piper joe moved +3 st ×1.12 by WORLD 0.809 → 0.977; README). Then the Kokoro style search below runs in the rest of the budget, and
the best held-out similarity with Whisper's WER within ``MAX_WER`` wins. The clone records
the engine and voice it speaks through (``meta["engine"]``, ``meta["voice"]``).

A Kokoro voice is a table of style rows; the rows of one voice differ little from each
other (std 0.017) compared with the differences between voices (0.089), so one 256-d
offset added to every row carries a change of voice to any sentence length. The first
128 numbers shape the timbre, the last 128 the prosody (pitch, timing, energy). The
search, scored by Resemblyzer similarity of two fixed *scoring* sentences to the target
voice:

1. starts from the shipped style closest to the target, the mix of the two closest, and
   that voice's timbre with each other voice's prosody half (the prosody half moves the
   similarity by a few hundredths on its own);
2. runs a (1+1) evolution strategy on an offset, mostly over the timbre dims and now and
   then over the prosody dims, each block with its own step size adapted by the 1/5
   success rule and scaled per dimension by the shipped voices' spread, minus a penalty
   for leaving that spread (beyond it the voice stays alike but turns unintelligible);
3. fits a WORLD post-process to the best style: a fixed pitch shift (toward the
   reference's median f0) and formant scale, or none — whichever scores best on the
   scoring sentences and two more (four sentences make the pick less of a coin toss),
   because WORLD's resynthesis alone can cost more similarity than the shift gains;
4. fits a static spectral correction (:mod:`engines.speech.spectral_eq`): the reference's
   long-term spectrum minus the clone's, in smoothed third-octave bands, applied as an
   equaliser after the WORLD shift — kept only when it raises the similarity on those four
   sentences by ``EQ_MARGIN`` (the voice's colour: tilt, microphone, a synthesiser's top);
5. checks the result on *held-out* sentences: the similarity reported is on sentences the
   search never scored, and a result whose Whisper transcript drifts from the text
   (WER above ``MAX_WER``) falls back to no equaliser, then no post-process, then to the
   next best style.

The clone is the style table plus the post-process (``meta["world"]``, ``meta["eq"]``),
which :mod:`engines.speech.voices` turns into the request's ``convert_toward`` when
speaking; a clone through Piper or espeak-ng keeps the same slot and table (unused) and
speaks through ``meta["voice"]`` with the same post-process. With a fixed ``max_candidates`` (and a budget it does not reach) the same
reference and seed give the same clone.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput
from engines.speech.prosody import median_f0, semitones
from engines.speech.request import SpeechRequest
from engines.speech.spectral_eq import SpectralEq
from engines.speech.world_convert import WorldShift

TIMBRE_DIMS = 128
STYLE_DIMS = 256
SCORING_SENTENCES = (
    "The museum opens at nine, and the guided tour starts shortly after that.",
    "Could you pass me the blue notebook that is lying on the kitchen table?",
)
HELD_OUT_SENTENCES = (
    "Rain is expected over the hills tonight, so bring a warm coat tomorrow.",
    "She bought three apples, a loaf of bread and some fresh cheese.",
    "We will meet again next week to talk about the new garden.",
)
FIT_SENTENCES = (  # with the scoring ones, what the post-process is fitted on
    "A small boat drifted slowly past the lighthouse in the morning fog.",
    "Please remember to water the plants before you leave on Friday.",
)
MAX_WER = 0.10
# Another engine's voice is fitted only when Whisper understands its plain output this well
# (the clone itself must still reach MAX_WER). A gate at MAX_WER itself turned away every
# espeak-ng male variant near an espeak-ng male reference, at 0.103-0.18 (1-3 words in 39:
# Whisper-base on formant synthesis), leaving a female variant 0.73 where the Kokoro search
# got 0.68 (bench-voice, espeak-m3); at twice MAX_WER it skips only the garbled ones (0.43).
PLAIN_MAX_WER = 2 * MAX_WER
WARP_GRID = (0.88, 0.94, 1.0, 1.06, 1.12)
POST_MARGIN = 0.005  # a post-process must beat the plain voice by this much to be kept
EQ_MARGIN = 0.01  # an equaliser must beat the clone without it by this much to be kept
EQ_STRENGTHS = (0.5, 1.0)  # of the measured LTAS difference
SEARCH_SHARE = 0.85  # of the budget; the rest is for the post-process and the checks
OTHER_BASES = 3  # nearest other-engine voices fitted (each ~30 s on two cores)
ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
CLONE_ENGINES = ("kokoro", "piper", "espeak")  # what a clone can speak through


@dataclass
class CloneSettings:
    budget_s: float = 300.0
    seed: int = 0
    max_candidates: int | None = None  # stop earlier than the budget (tests, benchmarks)
    step: float = 0.35  # initial step, in units of the shipped voices' per-dim spread
    spread_limit: float = 1.0  # rms offset (in spread units) before the penalty starts
    penalty: float = 0.5
    prosody_share: float = 0.25  # of the evolution steps that move the prosody dims
    prosody_starts: bool = True  # also start from the nearest timbre with other prosody
    post_process: bool = True  # fit the WORLD pitch/formant shift
    spectral_eq: bool = True  # fit the long-term spectrum equaliser (needs the reference)
    check_intelligibility: bool = True
    language: str = "en-us"
    start_voices: tuple[str, ...] | None = None  # shipped styles to start from (all if None)
    scoring: tuple[str, ...] = SCORING_SENTENCES
    fit: tuple[str, ...] = FIT_SENTENCES
    held_out: tuple[str, ...] = HELD_OUT_SENTENCES
    other_engines: bool = True  # also try Piper's and espeak-ng's voices as the clone's base
    exclude_bases: tuple[str, ...] = ()  # such voices not to try ("en-us+m3", "joe")
    other_bases: int = OTHER_BASES  # how many of the nearest such voices are fitted


@dataclass(frozen=True)
class Base:
    """A voice of another engine, spoken plainly, that a clone may speak through."""

    engine: str  # "piper" | "espeak"
    voice: str  # what the clone records: "joe", an imported Piper voice's name, an espeak-ng id
    model: str  # what the engine's request takes as its voice (a Piper voice's .onnx path)


@dataclass
class Fit:
    """The post-process a base voice speaks through, and Whisper's WER on it (held out)."""

    post: WorldShift | None
    eq: SpectralEq | None
    wer: float | None


@dataclass
class CloneResult:
    style: np.ndarray = field(repr=False)  # (510, 256) table to speak with
    base: str  # the start the search began from
    similarity: float  # to the target, on held-out sentences, post-process included
    start_similarity: float  # the nearest shipped style's held-out similarity
    score: float  # best scoring-sentence similarity of the style (penalised)
    candidates: int
    seconds: float
    wer: float | None = None
    post: WorldShift | None = None  # WORLD pitch/formant shift applied when speaking
    style_similarity: float | None = None  # held-out similarity of the style alone
    base_style: np.ndarray | None = field(default=None, repr=False)  # the nearest shipped style
    nearest: str = ""  # the nearest shipped style's name
    eq: SpectralEq | None = None  # the fitted long-term spectrum equaliser, if kept
    without_eq: float | None = None  # held-out similarity of style + WORLD shift alone
    engine: str = "kokoro"  # what the clone speaks through: kokoro, piper or espeak
    voice: str = ""  # the Piper or espeak-ng voice it speaks through (not Kokoro)
    tried: list[dict] = field(default_factory=list)  # each base fitted: held-out sim, WER

    @property
    def pitch_offset(self) -> float:
        return self.post.pitch if self.post is not None else 0.0

    def meta(self) -> dict:
        kokoro = self.engine == "kokoro"
        method = (
            "kokoro style search, (1+1)-ES on timbre+prosody dims, Resemblyzer, "
            "WORLD pitch/formant post-process, long-term spectrum EQ"
            if kokoro else
            f"nearest {self.engine} voice by Resemblyzer, WORLD pitch/formant post-process, "
            "long-term spectrum EQ (the data is the Kokoro search's style, unused)"
        )
        return {
            "engine": self.engine,
            **({} if kokoro else {"voice": self.voice}),
            "base": self.base,
            "similarity": round(self.similarity, 4),
            "start_similarity": round(self.start_similarity, 4),
            "style_similarity": None if self.style_similarity is None else round(self.style_similarity, 4),
            "wer": None if self.wer is None else round(self.wer, 4),
            "candidates": self.candidates,
            "seconds": round(self.seconds, 1),
            "world": None if self.post is None else self.post.as_dict(),
            "eq": None if self.eq is None else self.eq.as_dict(),
            "tried": self.tried[:12],
            "method": method,
        }


def _embed(samples: np.ndarray, rate: int) -> np.ndarray:
    from engines.voices.embedding import embed

    return embed(AudioClip(samples, rate))


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    from engines.voices.embedding import cosine

    return cosine(a, b)


def _request(sentence: str, voice: np.ndarray | str, language: str) -> SpeechRequest:
    """A plain request in ``voice``: a Kokoro style table, or another engine's voice id."""
    if isinstance(voice, str):
        return SpeechRequest(sentence, voice=voice, language=language, seed=0)
    return SpeechRequest(sentence, style=voice, language=language, seed=0)


def _raw(engine, sentence: str, voice: np.ndarray | str, language: str) -> np.ndarray:
    audio = engine.raw(sentence, _request(sentence, voice, language))
    return np.asarray(audio, np.float32)


def _say(engine, style: np.ndarray | str, sentences: tuple[str, ...], language: str) -> np.ndarray:
    """The sentences in one style (or voice id), raw engine output joined by short gaps."""
    parts = []
    for sentence in sentences:
        audio = _raw(engine, sentence, style, language)  # first: it may set the engine's rate
        parts += [audio, np.zeros(int(0.2 * engine.sample_rate), np.float32)]
    return np.concatenate(parts)


def post_processed(
    audio: np.ndarray, rate: int, post: WorldShift | None, eq: SpectralEq | None = None
) -> np.ndarray:
    """``audio`` as the clone speaks it: through the WORLD shift and the equaliser when it
    has them (in that order, as the pipeline applies them)."""
    if post is not None:
        from engines.speech.world_convert import convert

        audio = convert(audio, rate, post)
    return audio if eq is None else eq.apply(audio, rate)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance over the reference length (punctuation ignored)."""
    import re

    ref = re.findall(r"[a-z0-9']+", reference.lower())
    hyp = re.findall(r"[a-z0-9']+", hypothesis.lower())
    d = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):
        prev, d[0] = d.copy(), i
        for j, h in enumerate(hyp, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r != h))
    return float(d[len(hyp)]) / max(1, len(ref))


def intelligibility(
    engine, style: np.ndarray | str, sentences: tuple[str, ...], language: str,
    post: WorldShift | None = None,
    eq: SpectralEq | None = None,
) -> float:
    """WER of Whisper-base on ``sentences`` spoken in ``style`` (a Kokoro style table or
    another engine's voice id) and post-process."""
    from engines.voices.transcribe import transcribe

    errors = []
    for sentence in sentences:
        audio = _raw(engine, sentence, style, language)
        audio = post_processed(audio, engine.sample_rate, post, eq)
        heard = transcribe(AudioClip(audio, engine.sample_rate), language=language.split("-")[0])
        errors.append(word_error_rate(sentence, heard))
    return float(np.mean(errors))


def fit_post_process(
    audio: np.ndarray, rate: int, target: np.ndarray, reference_f0: float | None,
    check=lambda: None, warps: tuple[float, ...] = WARP_GRID,
) -> tuple[WorldShift | None, float]:
    """The WORLD shift (or None) that brings ``audio`` closest to ``target``, and its score.

    Pitch is tried at none, half and all of the way to the reference's median f0, formants
    on ``warps``; one WORLD analysis serves every try.
    """
    from engines.speech.world_convert import analyse, resynthesize

    plain = _cosine(_embed(audio, rate), target)
    a = analyse(audio, rate)
    if np.count_nonzero(a.f0 > 0) < 3:
        return None, plain
    pitches = [0.0]
    own = median_f0(audio, rate)
    if reference_f0 and own > 0:
        full = float(np.clip(semitones(reference_f0, own), -12.0, 12.0))
        if abs(full) >= 0.25:
            pitches += [full / 2, full]
    best, best_score = None, plain + POST_MARGIN
    for pitch in pitches:
        for warp in warps:
            check()
            shift = WorldShift(round(pitch, 3), warp)
            score = _cosine(_embed(resynthesize(a, shift, rate), rate), target)
            if score > best_score:
                best, best_score = shift, score
    return best, (plain if best is None else best_score)


def fit_spectral_eq(
    audio: np.ndarray, rate: int, reference: AudioClip, target: np.ndarray,
    check=lambda: None, strengths: tuple[float, ...] = EQ_STRENGTHS,
) -> tuple[SpectralEq | None, float]:
    """The long-term spectrum equaliser (or None) that brings ``audio`` closest to
    ``target``, and its score: the measured correction at each of ``strengths``, kept only
    when it beats ``audio`` as it is by :data:`EQ_MARGIN`."""
    from engines.speech.spectral_eq import fit_eq

    plain = _cosine(_embed(audio, rate), target)
    full = fit_eq(reference.mono().samples[0], reference.sample_rate, audio, rate)
    best, best_score = None, plain + EQ_MARGIN
    for strength in strengths:
        check()
        eq = full.scaled(strength)
        score = _cosine(_embed(eq.apply(audio, rate), rate), target)
        if score > best_score:
            best, best_score = eq, score
    return best, (plain if best is None else best_score)


def fit_and_check(
    engine, voice: np.ndarray | str, settings: CloneSettings, target: np.ndarray,
    reference_f0: float | None, reference: AudioClip | None,
    check=lambda: None, report=lambda stage: None, plain_wer: float | None = None,
) -> Fit | None:
    """Fit the WORLD post-process and the equaliser to ``voice`` (a Kokoro style table or
    another engine's voice id), then keep the first of: both, the shift alone, neither —
    whose Whisper WER on the held-out sentences is within :data:`MAX_WER` (None if none is).

    Shared by the Kokoro search and the other engines' voices, so a clone is post-processed
    and checked the same way whatever it speaks through. ``plain_wer``: the voice's WER
    without post-process, when already measured.
    """
    lang, rate = settings.language, engine.sample_rate
    post = eq = None
    if settings.post_process or (settings.spectral_eq and reference is not None):
        check()
        fit_audio = _say(engine, voice, settings.scoring + settings.fit, lang)
        if settings.post_process:
            report("fitting the pitch and formant post-process")
            post, _ = fit_post_process(fit_audio, rate, target, reference_f0, check)
        if settings.spectral_eq and reference is not None:
            report("fitting the spectral equaliser")
            shaped = post_processed(fit_audio, rate, post)
            eq, _ = fit_spectral_eq(shaped, rate, reference, target, check)
    # the fitted post-process, then without the equaliser, then none at all
    for post_, eq_ in dict.fromkeys([(post, eq), (post, None), (None, None)]):
        check()
        if not settings.check_intelligibility:
            return Fit(post_, eq_, None)
        if post_ is None and eq_ is None and plain_wer is not None:
            wer = plain_wer
        else:
            report("checking intelligibility (Whisper)")
            wer = intelligibility(engine, voice, settings.held_out, lang, post_, eq_)
        if wer <= MAX_WER:
            return Fit(post_, eq_, wer)
    return None


def held_out_scores(
    engine, voice: np.ndarray | str, fit: Fit, settings: CloneSettings, target: np.ndarray
) -> tuple[float, float, float]:
    """Held-out similarity of ``voice`` alone, with its WORLD shift, and as the clone speaks
    (shift and equaliser)."""
    rate = engine.sample_rate
    audio = _say(engine, voice, settings.held_out, settings.language)
    plain = _cosine(_embed(audio, rate), target)
    shaped = post_processed(audio, rate, fit.post)
    without_eq = plain if fit.post is None else _cosine(_embed(shaped, rate), target)
    full = without_eq if fit.eq is None else _cosine(_embed(fit.eq.apply(shaped, rate), rate), target)
    return plain, without_eq, full


def search_style(
    engine,
    target: np.ndarray,
    settings: CloneSettings,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    reference_f0: float | None = None,
    reference: AudioClip | None = None,
    reserve_s: float = 0.0,
) -> CloneResult:
    """Search Kokoro's style space for ``target`` (a Resemblyzer embedding).

    With ``reference_f0`` (the target's median f0) the WORLD post-process may also move the
    clone's pitch toward it; with ``reference`` (the recording itself) an equaliser may
    move the clone's long-term spectrum toward it. The search stops ``reserve_s`` (at
    least the budget's last ``1 - SEARCH_SHARE``) before the budget ends, for the checks.
    """
    engine.load()
    started = time.perf_counter()
    rng = np.random.default_rng(settings.seed)
    shipped = engine.styles
    spread = np.std(np.stack([t.mean(axis=0) for t in shipped.values()]), axis=0)
    spread = np.maximum(spread, 1e-3).astype(np.float32)
    blocks = (slice(0, TIMBRE_DIMS), slice(TIMBRE_DIMS, STYLE_DIMS))
    lang = settings.language
    rate = engine.sample_rate
    search_end = settings.budget_s - max(settings.budget_s * (1 - SEARCH_SHARE), reserve_s)

    def check() -> None:
        if cancel is not None:
            cancel.check()

    def similarity(table: np.ndarray, sentences: tuple[str, ...]) -> float:
        check()
        return _cosine(_embed(_say(engine, table, sentences, lang), rate), target)

    def penalised(sim: float, offset: np.ndarray) -> float:
        excess = 0.0
        for block in blocks:
            size = float(np.sqrt(np.mean((offset[block] / spread[block]) ** 2)))
            excess += max(0.0, size - settings.spread_limit) ** 2
        return sim - settings.penalty * excess

    def report(stage: str) -> None:
        elapsed = time.perf_counter() - started
        progress(Progress(min(elapsed, settings.budget_s), settings.budget_s, stage))

    report("comparing shipped voices")
    names = settings.start_voices or tuple(shipped)
    starts = {name: similarity(shipped[name], settings.scoring) for name in names}
    tables = {name: shipped[name] for name in names}
    ranked = sorted(starts, key=starts.get, reverse=True)
    nearest = ranked[0]
    if len(ranked) >= 2:  # halfway between the two nearest voices is often nearer still
        mix = f"{ranked[0]}+{ranked[1]}"
        tables[mix] = (shipped[ranked[0]] + shipped[ranked[1]]) / 2
        starts[mix] = similarity(tables[mix], settings.scoring)
    if settings.prosody_starts:  # the nearest timbre speaking with another voice's prosody
        timbre = max(starts, key=starts.get)
        for name in ranked:
            if name in timbre.split("+"):
                continue
            swapped = tables[timbre].copy()
            swapped[:, TIMBRE_DIMS:] = shipped[name][:, TIMBRE_DIMS:]
            label = f"{timbre} with {name}'s prosody"
            tables[label], starts[label] = swapped, similarity(swapped, settings.scoring)
            report(f"comparing starts: {label}")
    base_name = max(starts, key=starts.get)
    base = tables[base_name]

    offset = np.zeros(STYLE_DIMS, np.float32)
    best = starts[base_name]
    accepted: list[tuple[float, np.ndarray]] = [(best, offset.copy())]
    steps = [settings.step, settings.step]
    candidates = 0
    while time.perf_counter() - started < search_end:
        if settings.max_candidates is not None and candidates >= settings.max_candidates:
            break
        which = 1 if rng.random() < settings.prosody_share else 0
        block = blocks[which]
        trial = offset.copy()
        noise = rng.standard_normal(TIMBRE_DIMS).astype(np.float32)
        trial[block] += steps[which] * spread[block] * noise
        score = penalised(similarity(base + trial, settings.scoring), trial)
        candidates += 1
        if score > best:
            best, offset = score, trial
            accepted.append((best, offset.copy()))
            steps[which] *= 1.5
        else:
            steps[which] *= 1.5 ** -0.25  # the 1/5 rule: steady when one in five succeeds
        steps[which] = float(np.clip(steps[which], 0.02, 1.5))
        report(f"searching: {candidates} tried, best {best:.3f}")

    report("checking on held-out sentences")
    start_similarity = similarity(shipped[nearest], settings.held_out)
    chosen = None
    for score, candidate in sorted(accepted, key=lambda a: -a[0])[:3]:
        table = base + candidate
        fit = fit_and_check(engine, table, settings, target, reference_f0, reference, check, report)
        if fit is not None:
            chosen = (score, table, fit)
            break
    if chosen is None:  # nothing clear enough: keep the start itself
        chosen = (accepted[0][0], base, Fit(None, None, None))
    score, table, fit = chosen
    check()
    style_similarity, without_eq, held_out = held_out_scores(engine, table, fit, settings, target)
    progress(Progress(settings.budget_s, settings.budget_s, "done"))
    return CloneResult(
        style=table.astype(np.float32),
        base=base_name,
        similarity=held_out,
        start_similarity=start_similarity,
        score=score,
        candidates=candidates,
        seconds=time.perf_counter() - started,
        wer=fit.wer,
        post=fit.post,
        style_similarity=style_similarity,
        base_style=shipped[nearest],
        nearest=nearest,
        eq=fit.eq,
        without_eq=without_eq,
        tried=[{"engine": "kokoro", "voice": base_name, "similarity": round(held_out, 4),
                "wer": None if fit.wer is None else round(fit.wer, 4)}],
    )


def other_bases(settings: CloneSettings) -> list[Base]:
    """The other engines' voices a clone may speak through: Piper joe (English), every
    Piper voice imported into the model store, and espeak-ng's variants of the clone's
    language — less ``settings.exclude_bases`` (by voice, or as "engine:voice")."""
    from engines.speech import espeak_engine, piper_engine
    from engines.speech.voices import imported_piper_voices

    lang = settings.language.lower().replace("_", "-")
    found: list[Base] = []
    if piper_engine.unavailable_reason() is None:
        if lang.startswith("en"):
            found.append(Base("piper", piper_engine.BUNDLED, piper_engine.BUNDLED))
        found += [Base("piper", name, path) for name, path in sorted(imported_piper_voices().items())]
    if espeak_engine.unavailable_reason() is None:
        found += [Base("espeak", f"{lang}+{v}", f"{lang}+{v}") for v in ESPEAK_VARIANTS]
    excluded = set(settings.exclude_bases)
    return [b for b in found if b.voice not in excluded and f"{b.engine}:{b.voice}" not in excluded]


def _entry(engine: str, voice: str, similarity: float | None, wer: float | None, **more) -> dict:
    """One line of the clone's ``meta["tried"]``: a base and how it did on held-out sentences."""
    def r(x):
        return None if x is None else round(float(x), 4)

    return {"engine": engine, "voice": voice, "similarity": r(similarity), "wer": r(wer),
            **{k: r(v) if isinstance(v, float) else v for k, v in more.items()}}


def engine_clones(
    target: np.ndarray,
    settings: CloneSettings,
    check=lambda: None,
    report=lambda stage: None,
    reference_f0: float | None = None,
    reference: AudioClip | None = None,
    deadline: float = float("inf"),
) -> tuple[list[CloneResult], list[dict], float]:
    """The other engines' voices nearest ``target``, each post-processed like a Kokoro clone.

    Every base's plain output on the scoring sentences is compared with the target (cheap);
    the nearest ``settings.other_bases`` that Whisper understands plainly (WER within
    :data:`PLAIN_MAX_WER` on the held-out sentences; of the nearest twice as many) are fitted with :func:`fit_and_check` and
    judged on the held-out sentences. Returns the fitted clones, the meta lines of every
    base checked, and the longest fit took (what the Kokoro search keeps for its checks).
    No new fit starts after ``deadline`` (perf_counter), nor when the longest one so far
    would pass it.
    """
    from engines.errors import EngineError
    from engines.speech.service import engine as get_engine

    lang = settings.language
    scores: dict[Base, float] = {}
    for base in other_bases(settings):
        check()
        report(f"comparing {base.engine} voice {base.voice}")
        speaker = get_engine(base.engine)
        try:
            audio = _say(speaker, base.model, settings.scoring, lang)
        except EngineError:  # a damaged imported voice, an espeak-ng without the language
            continue
        scores[base] = _cosine(_embed(audio, speaker.sample_rate), target)
    results: list[CloneResult] = []
    tried: list[dict] = []
    cost = 0.0
    for base in sorted(scores, key=scores.get, reverse=True)[: 2 * settings.other_bases]:
        now = time.perf_counter()
        if len(results) >= settings.other_bases or now > deadline or (results and now + cost > deadline):
            break
        began = time.perf_counter()
        speaker = get_engine(base.engine)
        plain_wer = None
        if settings.check_intelligibility:
            check()
            report(f"checking {base.voice} is intelligible (Whisper)")
            plain_wer = intelligibility(speaker, base.model, settings.held_out, lang)
            if plain_wer > PLAIN_MAX_WER:
                tried.append(_entry(base.engine, base.voice, None, plain_wer,
                                    scoring=scores[base], skipped="Whisper did not understand it plainly"))
                continue
        report(f"fitting {base.engine} voice {base.voice}")
        fit = fit_and_check(speaker, base.model, settings, target, reference_f0, reference,
                            check, report, plain_wer)
        if fit is None:
            tried.append(_entry(base.engine, base.voice, None, plain_wer, scoring=scores[base],
                                skipped="no fit Whisper understands"))
            continue
        check()
        plain, without_eq, held_out = held_out_scores(speaker, base.model, fit, settings, target)
        seconds = time.perf_counter() - began
        cost = max(cost, seconds)
        tried.append(_entry(base.engine, base.voice, held_out, fit.wer, scoring=scores[base],
                            plain=plain))
        results.append(CloneResult(
            style=np.zeros((0, STYLE_DIMS), np.float32), base=base.voice, similarity=held_out,
            start_similarity=plain, score=scores[base], candidates=0, seconds=seconds,
            wer=fit.wer, post=fit.post, style_similarity=plain, nearest=base.voice, eq=fit.eq,
            without_eq=without_eq, engine=base.engine, voice=base.voice,
        ))
    return results, tried, cost


# No engine voice's fit starts after this share of the budget: the rest is the Kokoro
# search's. Given the whole budget, fits of far espeak-ng voices that Whisper then refused
# left a Kokoro voice moved by WORLD (kokoro-shifted) no search at all: 0.628 via espeak-ng.
ENGINE_SHARE = 0.5
# espeak-ng is formant synthesis: however near Resemblyzer puts it, a person hears a robot.
# A clone speaks through it only when it beats the best neural voice (Kokoro, Piper) by this
# much — a voice that is itself formant-made (0.89-0.97 through espeak-ng against 0.67-0.72
# through Kokoro in bench-voice) — not on a near tie with a recorded human voice.
FORMANT_MARGIN = 0.05
KOKORO_MIN_SEARCH_S = 60.0  # its starts and a few candidates; below this it is not worth it


def _eligible(result: CloneResult, settings: CloneSettings) -> bool:
    """Whisper understood the clone (or the check is off)."""
    if not settings.check_intelligibility:
        return True
    return result.wer is not None and result.wer <= MAX_WER


def _preferred(results: list[CloneResult]) -> CloneResult:
    """The nearest result, a neural voice over formant synthesis unless the latter is
    clearly nearer (:data:`FORMANT_MARGIN`)."""
    best = max(results, key=lambda r: r.similarity)
    neural = [r for r in results if r.engine != "espeak"]
    if best.engine == "espeak" and neural:
        runner_up = max(neural, key=lambda r: r.similarity)
        if runner_up.similarity >= best.similarity - FORMANT_MARGIN:
            return runner_up
    return best


def clone_reference(
    target: np.ndarray,
    settings: CloneSettings,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    reference_f0: float | None = None,
    reference: AudioClip | None = None,
) -> CloneResult:
    """Clone ``target`` (a Resemblyzer embedding) through whichever engine comes nearest.

    First the other engines' voices (:func:`engine_clones`: far cheaper than a search, and
    nearer for voices outside Kokoro's Japanese styles; no fit starts after
    :data:`ENGINE_SHARE` of the budget), then the Kokoro style search in the rest, keeping back the time the slowest fit took for its checks. The
    result with the best held-out similarity that Whisper understands wins; its ``style``
    is the Kokoro search's table either way (what the clone slot stores).
    """
    from engines.speech.service import engine as get_engine

    started = time.perf_counter()
    budget = settings.budget_s

    def check() -> None:
        if cancel is not None:
            cancel.check()

    def report(stage: str) -> None:
        progress(Progress(min(time.perf_counter() - started, budget), budget, stage))

    results: list[CloneResult] = []
    tried: list[dict] = []
    reserve = 0.0
    if settings.other_engines:
        results, tried, reserve = engine_clones(
            target, settings, check, report, reference_f0, reference,
            started + ENGINE_SHARE * budget)
    remaining = budget - (time.perf_counter() - started)
    kokoro = get_engine("kokoro")
    kokoro_result = None
    if not any(_eligible(r, settings) for r in results) or remaining >= reserve + KOKORO_MIN_SEARCH_S:
        offset = time.perf_counter() - started

        def kokoro_progress(p: Progress) -> None:
            progress(Progress(min(offset + p.done, budget), budget, f"Kokoro: {p.stage}"))

        kokoro_result = search_style(
            kokoro, target, dataclasses.replace(settings, budget_s=max(remaining, 1.0)),
            kokoro_progress, cancel, reference_f0, reference, reserve_s=reserve)
        results.append(kokoro_result)
        tried += kokoro_result.tried
    eligible = [r for r in results if _eligible(r, settings)] or ([kokoro_result] if kokoro_result else results)
    best = _preferred(eligible)
    if kokoro_result is not None:
        best.style, best.base_style = kokoro_result.style, kokoro_result.base_style
        if best is not kokoro_result:
            best.candidates = kokoro_result.candidates
    else:  # the search had no time left: any table fills the slot of a Piper/espeak clone
        kokoro.load()
        best.style = next(iter(kokoro.styles.values())).astype(np.float32)
    best.tried = tried
    best.seconds = time.perf_counter() - started
    progress(Progress(budget, budget, "done"))
    return best


def clone_voice(
    name: str,
    settings: CloneSettings | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> CloneResult:
    """Clone a library voice (:func:`clone_reference`) and save it as its clone: the Kokoro
    style table, the post-process, and which engine and voice it speaks through (meta)."""
    from engines.speech.voices import CLONE_KIND
    from engines.voices.library import open_library

    settings = settings or CloneSettings()
    if settings.budget_s <= 0:
        raise BadInput("The cloning budget must be a positive number of seconds.")
    library = open_library()
    voice = library.require_consent(name)
    ref = library.reference_audio(voice.name).mono()
    ref_f0 = median_f0(ref.samples[0], ref.sample_rate)
    result = clone_reference(voice.embedding, settings, progress, cancel, ref_f0, reference=ref)
    library.set_clone(voice.name, CLONE_KIND, result.style.astype(np.float32), result.meta())
    return result
