"""``timbre music``, ``timbre sfx`` and ``timbre models list|import|download|remove``."""

from __future__ import annotations

import argparse
import re
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    for name, family, what in (
        ("music", "musicgen", "music"),
        ("sfx", "audiogen", "sound effects"),
    ):
        p = sub.add_parser(name, help=f"generate {what} from a text prompt ({family})")
        p.add_argument("prompt")
        p.add_argument(
            "--model",
            help=f"checkpoint name, hub id or model folder (default {'musicgen-small' if name == 'music' else 'audiogen-medium'}); "
            "'debug' is a tiny random model that makes noise, for testing",
        )
        p.add_argument(
            "--duration",
            type=float,
            default=10.0 if name == "music" else 5.0,
            help="seconds of new audio (windowed beyond the model's limit, up to 300)",
        )
        p.add_argument("--variations", type=int, default=1, help="takes made in one batch (1-8)")
        p.add_argument("--seed", type=int, help="same seed, device and model → same audio")
        p.add_argument("--temperature", type=float, default=1.0)
        p.add_argument("--top-k", type=int, default=250)
        p.add_argument("--top-p", type=float, default=0.0)
        p.add_argument("--cfg", type=float, default=3.0, help="classifier-free guidance strength")
        p.add_argument(
            "--continue", dest="continue_from", metavar="WAV", help="continue this audio"
        )
        if name == "music":
            p.add_argument(
                "--melody", metavar="WAV", help="follow this melody (melody checkpoints)"
            )
        else:
            p.add_argument("--loop", action="store_true", help="make the take loop seamlessly")
        p.add_argument(
            "--normalize",
            choices=["loudness", "peak", "none"],
            default="loudness",
            help="loudness (default, to --lufs) or peak (−1 dBFS)",
        )
        p.add_argument("--lufs", type=float, default=-14.0, help="loudness target (default −14)")
        p.add_argument("--no-watermark", action="store_true", help="do not watermark the takes")
        p.add_argument("--window", type=float, help="window length in seconds (less memory)")
        p.add_argument(
            "--speed",
            choices=["fast", "stock", "reduced", "int8"],
            help="fast: cached attention and this computer's fastest float32 kernels, same "
            "audio as stock; reduced (old name int8): its fastest fp16/bf16/int8/4-bit "
            "kernel that keeps >= 98%% agreement with float32, slightly different audio; "
            "stock: audiocraft unchanged (default: the studio's Preferences, fast unless "
            "changed there)",
        )
        p.add_argument("--project", metavar="P", help="add the takes to this project")
        p.add_argument("-o", "--output-dir", metavar="DIR", help="folder for the files (default .)")
        p.add_argument("--format", choices=["wav", "flac", "ogg", "mp3", "opus", "m4a"], default="wav")
        p.set_defaults(func=cmd_generate, family=family, kind=name)

    m = sub.add_parser("models", help="list, import, download or remove music/sfx models")
    msub = m.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = msub.add_parser("list", help="every checkpoint and whether it is installed")
    ls.add_argument("--kind", choices=["music", "voice"], default="music",
                    help="voice: Piper's voice catalog and Kokoro's voice set "
                    "(download one as piper:KEY or kokoro:NAME)")
    ls.add_argument("--language", help="voices of one language: en, en_GB, German, …")
    ls.add_argument("--search", help="voices whose key, speaker or language has these words")
    ls.add_argument("--refresh", action="store_true",
                    help="fetch the voice catalogs from the hub (else the cached or built-in list)")
    ls.set_defaults(func=cmd_models_list)
    imp = msub.add_parser(
        "import",
        help="import a model folder (state_dict.bin + compression_state_dict.bin), or demucs' "
        "htdemucs file 955717e8-8726e21a.th (melody checkpoints)",
    )
    imp.add_argument("path")
    imp.add_argument("--as", dest="repo_id", help="id to store it under (default local/FOLDER)")
    imp.set_defaults(func=cmd_models_import)
    dl = msub.add_parser("download", help="download a checkpoint and what it needs, or a voice "
                         "as piper:KEY or kokoro:NAME (resumable)")
    dl.add_argument("name")
    dl.set_defaults(func=cmd_models_download)
    rm = msub.add_parser("remove", help="delete an installed model")
    rm.add_argument("name")
    rm.set_defaults(func=cmd_models_remove)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "take"


def cmd_generate(args: argparse.Namespace) -> int:
    from desktop.cli.common import ProgressBar
    from engines.audio_io import format_for, read_audio
    from engines.files import ensure_folder
    from engines.music.engine import MusicRequest
    from engines.tags import provenance_document, write_tagged

    out_dir = Path(args.output_dir or ".")
    ensure_folder(out_dir)  # created when missing, as audiocraft's audio_write does
    fmt = format_for(Path(f"x.{args.format}"))
    melody = getattr(args, "melody", None)
    request = MusicRequest(
        prompt=args.prompt,
        duration=args.duration,
        variations=args.variations,
        seed=args.seed,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        cfg_coef=args.cfg,
        continuation=read_audio(args.continue_from) if args.continue_from else None,
        melody=read_audio(melody) if melody else None,
        loop=getattr(args, "loop", False),
        normalize=args.normalize,
        target_lufs=args.lufs,
        watermark=False if args.no_watermark else None,
    )
    request.validate()
    project = _open_project(args.project) if args.project else None
    if project is not None and request.watermark is None:  # the project's setting decides
        from dataclasses import replace

        from desktop.project.provenance import watermark_enabled

        request = replace(request, watermark=watermark_enabled(project))
    from desktop.session import JobSpec, create_engine, run_job

    engine = create_engine(
        args.family, {"model": args.model, "window_seconds": args.window, "speed": args.speed}
    )
    if engine.source.debug:
        print("note: the debug model is a tiny random model — it makes noise, for testing only")
    spec = JobSpec(args.family, args.kind, request, args.prompt[:40],
                   {"model": args.model, "speed": args.speed}, watermark=request.watermark)
    bar = ProgressBar(args.kind)
    project_name = project.name if project is not None else ""
    try:
        outcome = run_job(spec, project, engine=engine, progress=bar)
    finally:
        bar.close()
        if project is not None:
            project.close()
    for i, take in enumerate(outcome.takes):
        prov = take.provenance
        index = prov.params["variation"]
        path = out_dir / f"{args.kind}-{_slug(args.prompt)}-{prov.seed}-{index}.{fmt}"
        write_tagged(path, take.clip, provenance_document([prov.to_dict()]), fmt, title=args.prompt)
        line = f"wrote {path} ({take.clip.duration:.2f} s, {take.clip.sample_rate} Hz, seed {prov.seed})"
        if outcome.stored:
            line += f" → take {outcome.stored[i].id} in {project_name}"
        print(line)
    return 0


def _open_project(path: str):
    from desktop.project.store import Project

    return Project.open(path)


# ---- models ----------------------------------------------------------------------------
def cmd_models_list(args: argparse.Namespace) -> int:
    if getattr(args, "kind", "music") == "voice":
        from desktop.cli.voice_catalog_cmds import list_voices

        return list_voices(args)
    from engines import modelstore
    from engines.music.checkpoints import CHECKPOINTS, melody_note
    from engines.music.models import checkpoint_status

    print("checkpoints (timbre models download NAME):")
    for ckpt in CHECKPOINTS:
        note = melody_note(ckpt)
        state = checkpoint_status(ckpt)
        extra = f" — {note}" if note else ""
        print(f"  {ckpt.name:29s} ~{ckpt.download_gb:3.1f} GB  {state:14s} {ckpt.label}{extra}")
    print(f"  {'debug':29s}  0.0 GB  {'available':14s} tiny random model (noise, for testing)")
    from engines.speech import chatterbox_models

    print("speech models (timbre models download NAME):")
    for model in chatterbox_models.MODELS:
        state = chatterbox_models.status(model)
        print(f"  {model.name:29s} ~{model.download_gb:3.1f} GB  {state:14s} {model.label}")
    installed = modelstore.list_installed()
    if installed:
        print("installed in the store:")
        for model in installed:
            print(f"  {model.repo_id:40s} {model.size_bytes / 1e9:6.2f} GB  {model.revision[:12]}")
    return 0


def cmd_models_import(args: argparse.Namespace) -> int:
    from engines.htdemucs import HTDEMUCS_REPO, describe_import
    from engines.music.models import import_model
    from engines.speech import chatterbox_models

    if Path(args.path).is_dir() and chatterbox_models.models_in(Path(args.path)):
        model = chatterbox_models.import_folder(Path(args.path).expanduser())
        print(f"imported {args.path} as {model.repo_id} ({model.size_bytes / 1e9:.2f} GB)")
        return 0
    model = import_model(Path(args.path), args.repo_id)
    if model.repo_id == HTDEMUCS_REPO:
        print(f"imported {args.path} as {model.repo_id}: {describe_import(model)}")
        return 0
    print(
        f"imported {args.path} as {model.repo_id} ({model.size_bytes / 1e9:.2f} GB); "
        f"use it with --model {model.repo_id}"
    )
    return 0


def cmd_models_download(args: argparse.Namespace) -> int:
    from desktop.cli.common import ProgressBar
    from engines.licences import model_licence
    from engines.music.models import by_name, download

    if args.name.startswith(("piper:", "kokoro:")):
        from desktop.cli.voice_catalog_cmds import download_voice

        return download_voice(args.name)
    from engines.speech import chatterbox_models

    # Each model's licence before any byte is fetched (MusicGen: "not for commercial use").
    speech_model = chatterbox_models.by_name(args.name)
    if speech_model is not None:
        entry = model_licence(speech_model.repo_id)
        print(entry.sentence() if entry else f"{speech_model.repo_id}: licence unknown")
        bar = ProgressBar("download")
        try:
            chatterbox_models.download(args.name, print, progress=bar)
        finally:
            bar.close()
        print(f"installed {speech_model.name} ({speech_model.repo_id})")
        return 0
    ckpt = by_name(args.name)
    for repo_id in [*ckpt.dependencies, ckpt.repo_id] if ckpt else [args.name]:
        entry = model_licence(repo_id)
        print(entry.sentence() if entry else f"{repo_id}: licence unknown — check its model card")
    bar = ProgressBar("download")
    try:
        repos = download(args.name, print, progress=bar)
    finally:
        bar.close()
    for repo_id in repos:
        print(f"installed {repo_id}")
    return 0


def cmd_models_remove(args: argparse.Namespace) -> int:
    from engines.music.models import remove_model

    if args.name.startswith(("piper:", "kokoro:")):
        from engines.errors import BadInput
        from engines.speech import kokoro_catalog, piper_catalog

        remove = piper_catalog.remove if args.name.startswith("piper:") else kokoro_catalog.remove
        if not remove(args.name):
            raise BadInput(f"{args.name} is not installed; see 'timbre speak-voices'.")
        print(f"removed {args.name}")
        return 0
    from engines.speech import chatterbox_models

    speech_model = chatterbox_models.by_name(args.name)
    if speech_model is None:
        print(f"removed {remove_model(args.name)}")
        return 0
    shared = [m.name for m in chatterbox_models.MODELS
              if m.repo_id == speech_model.repo_id and m.installed()]
    remove_model(speech_model.repo_id)  # one repo holds English and Multilingual: both go
    print(f"removed {speech_model.repo_id} ({', '.join(shared) or speech_model.name})")
    return 0
