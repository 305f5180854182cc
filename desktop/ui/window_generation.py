"""The main window's generation side: forms' pick-lists, models, library voices and consent,
cloning, submitting jobs and showing their takes.

:class:`GenerationController` is made by :class:`desktop.ui.main_window.MainWindow` with the
panels, job manager, notifications and project it works on passed in, so its dependencies
are its constructor, not whichever window attributes happen to exist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtWidgets import QStatusBar

from desktop.project.store import Project
from desktop.session.jobs import request_record
from desktop.ui.forms import DEFAULT_CHOICE, add_choices, choose
from desktop.ui.generation import GenerationPanel
from desktop.ui.notifications import NotificationBar
from desktop.ui.timeline_view import TimelineView
from desktop.ui.voices_dock import VoicesPanel
from desktop.ui.workers import Job, JobManager
from engines.errors import EngineError

KOKORO_LANGUAGES = {"a": "American English", "b": "British English", "e": "Spanish", "f": "French",
                    "h": "Hindi", "i": "Italian", "j": "Japanese", "p": "Brazilian Portuguese",
                    "z": "Mandarin Chinese"}


def kokoro_label(code: str) -> str:
    """Kokoro's voice codes say language and sex in their first two letters ("jf_alpha":
    Japanese, female); the pick-list spells them out."""
    language = KOKORO_LANGUAGES.get(code[:1])
    sex = {"f": "female", "m": "male"}.get(code[1:2])
    return f"{code} — {language}, {sex}" if language and sex and code[2:3] == "_" else code


def consent_words(name: str, doing: str) -> str:
    """The studio's refusal for a voice without consent. The library's own message tells a
    command-line user which `timbre voice …` commands to run; a window user has the
    Consent… button instead."""
    return (f"{doing} '{name}' is refused until the speaker's consent is recorded. In the Voice "
            f"library, select '{name}' and press Consent… to record them reading the statement.")


class GenerationController:
    """What the generation panels ask of the window: pick-lists, models, library voices
    (refused without consent), cloning, and jobs from submission to their takes."""

    def __init__(
        self,
        voices: VoicesPanel,
        panels: dict[str, GenerationPanel],
        jobs: JobManager,
        notice: NotificationBar,
        status: QStatusBar,
        project: Callable[[], Project | None],
        view: Callable[[], TimelineView | None],
        raise_dock: Callable[[str], None],
        refresh: Callable[[], None],
        save_forms: Callable[[], None],
    ) -> None:
        """``panels`` is the window's own dict, filled after this controller exists (the
        panels are built with its methods); ``project`` and ``view`` are asked each time;
        ``refresh`` re-reads the store once a job's takes are in it; ``save_forms`` keeps
        what was typed with the project before a job is submitted."""
        self.voices = voices
        self.panels = panels
        self.jobs = jobs
        self.notice = notice
        self.status = status
        self.project = project
        self.view = view
        self.raise_dock = raise_dock
        self.refresh = refresh
        self.save_forms = save_forms
        self.consent_said: str | None = None  # the consent refusal just said, with its button
        self.job_projects: dict[int, Project] = {}  # the project each job's takes belong to
        self.retiring: list[Project] = []  # left by the window, still open for running jobs
        self.task_done: dict[int, Callable[[object], None]] = {}  # library tasks (cloning)

    def watermark_default(self) -> bool:
        """Whether new takes will be watermarked (the project's choice, else the setting)."""
        from desktop.project.provenance import watermark_enabled
        from engines.watermark import watermark_wanted

        project = self.project()
        return watermark_enabled(project) if project is not None else watermark_wanted()

    def refuse_without_consent(self, name: str, doing: str) -> None:
        """Say why, with a button that opens the Consent… dialog for that voice."""
        def open_consent() -> None:
            self.voices.select(name)
            self.raise_dock("voices")
            self.voices.consent_dialog()

        self.consent_said = consent_words(name, doing)
        self.notice.notify(self.consent_said, error=True, action=("Consent…", open_consent))

    def panel_refused(self, message: str) -> None:
        """A panel's refusal, unless it is the consent refusal just said with its button."""
        if message != self.consent_said:
            self.notice.notify(message, error=True)
        self.consent_said = None

    def selected_clip_audio(self):
        """The audio of the selected clip (its trimmed part), for continuation requests."""
        view, project = self.view(), self.project()
        clip = view.clip(view.selected_clip) if view is not None else None
        if clip is None or project is None:
            return None
        audio = project.load_audio(project.take(clip.take_id).audio_sha256)
        rate = project.sample_rate
        return audio.slice_seconds(clip.offset_frame / rate, (clip.offset_frame + clip.length_frames) / rate)

    def form_choices(self, engine: str) -> dict[str, list[str]]:
        """Pick-lists for request fields: the engine's own voices, then library voices."""
        from engines.speech.prosody import EMOTIONS

        own: list[str] = []
        try:
            from engines.speech import voices as speech_voices

            if engine == "piper":
                from engines.speech.piper_catalog import installed_by_language

                # downloaded/imported voices grouped by language: "en_GB — en_GB-alan-medium"
                own = ["joe", *installed_by_language(speech_voices.imported_piper_voices())]
            elif engine == "kokoro":
                from engines.speech.kokoro_catalog import installed as kokoro_downloaded

                # downloaded voices of Kokoro's full set, grouped by language, English first
                extra = sorted(kokoro_downloaded(), key=lambda c: ("ab".find(c[0]) % 3, c))
                own = [(code, kokoro_label(code)) for code in (*extra, *speech_voices.KOKORO_SHIPPED)]
        except (ImportError, EngineError):
            pass
        choices = {"voice": [*own, *self.voices.names()], "emotion": list(EMOTIONS)}
        if engine in ("musicgen", "audiogen"):
            from engines.music.engine import NORMALIZE_CHOICES

            choices["normalize"] = list(NORMALIZE_CHOICES)
        return choices

    def model_options(self, engine: str) -> list[tuple[str, str, bool]]:
        """(name, label, installed) of the checkpoints an engine can load, for the Model box."""
        if engine not in ("musicgen", "audiogen"):
            return []
        from engines.music import checkpoints

        found = [(c.name, c.label, checkpoints.is_ready(c)) for c in checkpoints.CHECKPOINTS
                 if c.family == engine]
        debug = checkpoints.DEBUG_CHECKPOINTS[engine]
        return [*found, (debug.name, debug.label, True)]

    def prepare_speech(self, engine: str, request):
        """A library voice name becomes its engine and settings (refused without consent)."""
        name = getattr(request, "voice", None)
        if not name or name not in self.voices.names():
            return engine, request
        from engines.speech.voices import resolve

        if self.voices.library is not None:
            try:
                self.voices.library.require_consent(name)
            except EngineError:
                self.refuse_without_consent(name, "Speaking as")
                raise EngineError(consent_words(name, "Speaking as")) from None
        resolved = resolve(name, self._clone_engine_for(name, engine))
        for key, value in resolved.fields.items():
            setattr(request, key, value)
        if resolved.engine != engine:  # the job row says so too; say why
            self.notice.notify(f"'{name}' speaks through {resolved.engine}, the engine its clone uses.")
        return resolved.engine, request

    def _clone_engine_for(self, name: str, panel_engine: str) -> str | None:
        """The engine to ask ``resolve`` for when the panel speaks as a library voice.
        Piper's panel (the default) leaves the choice to the voice (a banked Piper voice,
        else its clone's engine); on Kokoro's or espeak-ng's panel a style clone still
        speaks through the engine it was fitted on; other engines are asked for as they are."""
        from engines.speech.voices import CLONE_KIND, clone_engine

        if panel_engine == "piper":
            return None
        if panel_engine not in ("kokoro", "espeak") or self.voices.library is None:
            return panel_engine
        made = self.voices.library.get_clone(name, CLONE_KIND)
        return panel_engine if made is None else clone_engine(made)

    def voices_changed(self) -> None:
        panel = self.panels["speech"]
        if panel.form is not None and "voice" in panel.form.widgets:
            box = panel.form.widgets["voice"]
            current = panel.form.state().get("voice", DEFAULT_CHOICE)
            box.clear()
            box.addItem(DEFAULT_CHOICE)
            add_choices(box, self.form_choices(panel.engine.name)["voice"])
            choose(box, current)

    def clone_voice(self) -> None:
        """Speak as a cloned library voice: refused without the speaker's consent; a voice
        with consent but no clone yet gets one made (a cancellable job of a few minutes)."""
        panel = self.panels["speech"]
        values = panel.form.values() if panel.form is not None else {}
        name = values.get("voice") if values.get("voice") in self.voices.names() else self.voices.current
        if not name:
            self.notice.notify("Choose a library voice to clone first (Voice library panel).", error=True)
            return
        if self.voices.library is None:
            self.notice.notify(f"Cloning is refused: {self.voices.reason}", error=True)
            return
        try:
            self.voices.library.require_consent(name)
        except EngineError:
            self.refuse_without_consent(name, "Cloning")
            return
        from engines.speech.chatterbox_clone import choose_method, clone_zero_shot
        from engines.speech.chatterbox_conds import CLONE_KIND as ZERO_SHOT
        from engines.speech.voices import CLONE_KIND, clone_engine

        # zero-shot Chatterbox when its weights are installed, else the nearest voice of
        # Piper, espeak-ng or a Kokoro style search (the clone records which it speaks through)
        method, why = choose_method()
        kind = ZERO_SHOT if method == "chatterbox" else CLONE_KIND
        made = self.voices.library.get_clone(name, kind)
        if made is not None:
            self._speak_as(name, "chatterbox" if method == "chatterbox" else clone_engine(made))
            return
        if method == "chatterbox":
            def work(progress, cancel):
                return clone_zero_shot(name, progress=progress, cancel=cancel)
        else:
            from engines.speech.clone import clone_voice

            def work(progress, cancel):
                return clone_voice(name, progress=progress, cancel=cancel)
        self.notice.notify(f"Cloning '{name}' with {why}.")
        job = self.jobs.submit_task("clone", f"Clone {name}", work)
        self.task_done[job.id] = lambda result: self._clone_ready(
            name, result, "chatterbox" if method == "chatterbox" else result.engine)
        self.raise_dock("jobs")

    def _clone_ready(self, name: str, result, engine: str = "kokoro") -> None:
        self.voices.refresh()
        if engine == "chatterbox":
            self.notice.notify(f"'{name}' is cloned zero-shot with Chatterbox from its "
                               f"{result.reference_s:.0f} s reference; the Speech panel now speaks as it.")
        else:
            through = "Kokoro" if engine == "kokoro" else f"{engine} voice {result.voice}"
            self.notice.notify(f"'{name}' is cloned through {through} (similarity "
                               f"{result.similarity:.2f} on sentences the search never heard); "
                               "the Speech panel now speaks as it.")
        self._speak_as(name, engine)

    def _speak_as(self, name: str, engine: str = "kokoro") -> None:
        panel = self.panels["speech"]
        panel.select_engine(engine)
        if panel.form is not None and "voice" in panel.form.widgets:
            panel.form.set_value("voice", name)
        self.raise_dock("speech")

    def submit_request(self, engine: str, kind: str, request, label: str, options: dict | None = None) -> None:
        """A panel's request: N variations become N jobs (each its own row, progress and
        Cancel, and a take named "… (2 of 3)"), seeded seed, seed+1, … so each can be made again."""
        n = int(getattr(request, "variations", 1) or 1)
        if n <= 1 or not dataclasses.is_dataclass(request):
            self.submit_job(engine, kind, request, label, options)
            return
        seed = getattr(request, "seed", None)
        for i in range(n):
            one = dataclasses.replace(request, variations=1,
                                      **({"seed": seed + i} if seed is not None and seed >= 0 else {}))
            self.submit_job(engine, kind, one, f"{label} ({i + 1} of {n})", options)

    def submit_job(self, engine: str, kind: str, request, label: str, options: dict | None = None,
                   device: str | None = None) -> Job | None:
        project = self.project()
        if project is None:
            return None
        self.save_forms()
        store_id = project.create_job(kind, engine, {**request_record(request), **(options or {})})
        from desktop.project.provenance import watermark_enabled

        job = self.jobs.submit(engine, kind, label, request, device, options,
                               watermark=watermark_enabled(project),
                               project=project, store_id=store_id)
        self.job_projects[job.id] = project
        self.raise_dock("jobs")
        return job

    def _active_for(self, project: Project) -> bool:
        return any(j.active and j.project is project for j in self.jobs.jobs)

    def retire(self, project: Project) -> None:
        """Close a project the window leaves — but not under a job still running for it:
        the worker stores that job's takes into it, so it closes when the last one ends
        (switching projects mid-generation must not lose the take)."""
        if self._active_for(project):
            self.retiring.append(project)
        else:
            project.close()

    def close_retired(self) -> None:
        """On quit, after the job threads are joined: close what was kept open for them."""
        while self.retiring:
            self.retiring.pop().close()

    def job_finished(self, job: Job) -> None:
        on_done = self.task_done.pop(job.id, None)
        if on_done is not None:  # a library task (cloning), not a take for the project
            if job.state == "done":
                on_done(job.result)
            elif job.state == "failed":
                self.notice.notify(job.error, details=job.details, error=True)
            return
        project = self.job_projects.pop(job.id, None)
        if project in self.retiring and not self._active_for(project):
            self.retiring.remove(project)
            project.close()
        if project is None or project is not self.project():
            return
        if job.state == "done":  # the worker stored the takes; the window only shows them
            self.refresh()
            self.notice.notify(f"{len(job.takes)} take(s) ready from {job.engine}: {job.label}")
        elif job.state == "cancelled":
            self.status.showMessage(f"Cancelled: {job.label}", 4000)
        elif job.oom and job.device != "cpu":
            self.notice.notify(job.error, details=job.details, error=True, action=(
                "Retry on CPU",
                lambda: self.submit_job(job.engine, job.kind, job.request, job.label, job.options, "cpu")))
        else:
            self.notice.notify(job.error, details=job.details, error=True)
