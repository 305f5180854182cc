"""``timbre bank …``: voice banking from audio files (the same bank the studio records into)."""

from __future__ import annotations

import argparse

MARKS = {"green": "OK ", "amber": "~~ ", "red": "XX "}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bank", help="voice banking: record a script in your own voice, export it")
    bsub = p.add_subparsers(dest="bank_command", metavar="ACTION", required=True)

    new = bsub.add_parser("new", help="create a bank folder for one person")
    new.add_argument("project")
    new.add_argument(
        "--script", default="arctic", help="shipped script name or a .tsv file (arctic)"
    )
    new.add_argument("--speaker", default="", help="the person's name")
    new.set_defaults(func=cmd_new)

    pr = bsub.add_parser("prompts", help="the script's prompts with their status")
    pr.add_argument("project")
    pr.add_argument("--todo", action="store_true", help="only prompts not yet recorded")
    pr.set_defaults(func=cmd_prompts)

    add = bsub.add_parser(
        "add-take", help="add a recording of a prompt; prints the verdict and why"
    )
    add.add_argument("project")
    add.add_argument("prompt_id")
    add.add_argument("file")
    add.set_defaults(func=cmd_add_take)

    st = bsub.add_parser("status", help="progress, minutes of clean speech, takes to redo")
    st.add_argument("project")
    st.add_argument("--worst", type=int, default=5, metavar="N", help="list the N worst takes (5)")
    st.set_defaults(func=cmd_status)

    ex = bsub.add_parser(
        "export", help="LJSpeech/Piper training set (or --messages as named files)"
    )
    ex.add_argument("project")
    ex.add_argument("-o", "--output", required=True, metavar="DIR")
    ex.add_argument("--green-only", action="store_true", help="leave amber takes out")
    ex.add_argument("--messages", action="store_true", help="export banked messages instead")
    ex.add_argument("--search", default="", help="with --messages: only those matching")
    ex.set_defaults(func=cmd_export)

    msg = bsub.add_parser("message", help="bank a free phrase in your own voice")
    msg.add_argument("project")
    msg.add_argument("file")
    msg.add_argument("--text", required=True, help="the words said")
    msg.add_argument("--tag", action="append", default=[], help="repeatable")
    msg.set_defaults(func=cmd_message)

    msgs = bsub.add_parser("messages", help="list or search banked messages")
    msgs.add_argument("project")
    msgs.add_argument("query", nargs="?", default="")
    msgs.set_defaults(func=cmd_messages)

    con = bsub.add_parser(
        "consent", help="show the consent statement to read, or add its recording"
    )
    con.add_argument("project")
    con.add_argument("file", nargs="?")
    con.add_argument("--name", required=True, help="the voice's name in the library")
    con.set_defaults(func=cmd_consent)

    imp = bsub.add_parser(
        "import-voice", help="add a Piper voice trained on this bank to the library"
    )
    imp.add_argument("project")
    imp.add_argument("model", help="the trained .onnx file")
    imp.add_argument("--config", help="its .onnx.json (default: next to the model)")
    imp.add_argument("--name", required=True)
    imp.set_defaults(func=cmd_import_voice)

    tr = bsub.add_parser(
        "train",
        help="train the person's own Piper voice from the bank (resumable), check it, add it",
    )
    tr.add_argument("project")
    tr.add_argument(
        "--base", default="auto",
        help="checkpoint to fine-tune: auto (installed base of the bank's language), a base "
        "name (downloaded once), a .ckpt file, or debug (tiny random model, for testing)",
    )
    tr.add_argument("--steps", type=int, default=2000, help="training steps in all (2000)")
    tr.add_argument(
        "--device", choices=("cpu", "cuda"),
        help="cpu (default here) or cuda; with --ray a GPU is used when the cluster has one",
    )
    tr.add_argument("--name", help="the voice's name in the library (default: the consent's)")
    tr.add_argument("--batch-size", type=int, default=16, help="takes per step (16)")
    tr.add_argument("--language", default="", help="espeak-ng voice for the text (en-us)")
    tr.add_argument(
        "--checkpoint-minutes", type=float, default=5.0, help="save progress this often (5)"
    )
    tr.add_argument("--checkpoint-steps", type=int, default=0, help=argparse.SUPPRESS)
    tr.add_argument("--restart", action="store_true", help="start over from the base")
    tr.add_argument("--no-check", action="store_true", help="train and export only")
    tr.add_argument(
        "--force", action="store_true",
        help="add the voice to the library even if it fails its check (marked unchecked)",
    )
    tr.add_argument(
        "--ray", metavar="local|ADDRESS", nargs="?", const="setting",
        help="train on a Ray cluster's GPU node: an address (ray://host:10001) joins one, "
        "'local' starts a private one here; --ray alone uses the address in Settings. The "
        "checkpoints come back to this bank after every --checkpoint-minutes",
    )
    tr.add_argument("--workers", type=int, metavar="N", help=argparse.SUPPRESS)  # --ray local CPUs
    tr.set_defaults(func=cmd_train)


def _bank(path: str):
    from engines.banking.bank import VoiceBank

    return VoiceBank.open(path)


def cmd_new(args: argparse.Namespace) -> int:
    from engines.banking.bank import VoiceBank

    bank = VoiceBank.create(args.project, script=args.script, speaker=args.speaker)
    n = len(bank.prompts())
    print(f"created {bank.path} with {n} prompts from '{args.script}'")
    first = bank.next_prompt()
    if first:
        print(f"first prompt  {first.id}  {first.text}")
    return 0


def cmd_prompts(args: argparse.Namespace) -> int:
    bank = _bank(args.project)
    accepted = {p.id: t for p, t in bank.accepted()}
    for prompt in bank.prompts():
        take = accepted.get(prompt.id)
        if args.todo and take is not None:
            continue
        mark = MARKS[take.verdict] if take else "   "
        print(f"{mark}{prompt.id}\t{prompt.text}")
    return 0


def _print_report(report) -> None:
    print(f"verdict  {report.verdict}: {report.summary()}")
    m = report.metrics
    parts = [f"peak {m['peak_dbfs']} dBFS"]
    if "speech_level_dbfs" in m:
        parts.append(f"speech {m['speech_level_dbfs']} dBFS")
        if m.get("snr_db") is not None:
            parts.append(f"SNR {m['snr_db']} dB")
        if m.get("noise_floor_dbfs") is not None:
            parts.append(f"floor {m['noise_floor_dbfs']} dBFS")
        parts.append(f"{m['speech_seconds']} s speech (text predicts ~{m['expected_seconds']} s)")
        parts.append(f"{m['syllables_per_second']} syll/s")
    print("measured " + ", ".join(parts))


def cmd_add_take(args: argparse.Namespace) -> int:
    from engines.banking.bank import read_take

    bank = _bank(args.project)
    take, report = bank.add_take(args.prompt_id, read_take(args.file), source_name=args.file)
    _print_report(report)
    state = "accepted" if take.status == "accepted" else "kept but not accepted: record it again"
    print(f"take     {take.id} for {args.prompt_id}, {state}")
    nxt = bank.next_prompt()
    if nxt:
        print(f"next     {nxt.id}  {nxt.text}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    bank = _bank(args.project)
    s = bank.status()
    v = s.verdicts
    print(f"bank       {bank.path}  (script '{s.script}', {s.prompts} prompts)")
    print(
        f"recorded   {s.recorded} of {s.prompts}  (green {v['green']}, amber {v['amber']}, red {v['red']})"
    )
    print(f"speech     {s.clean_minutes:.1f} minutes of clean speech")
    reached = f"{s.milestone[1]} voice ({s.milestone[0]}+ sentences)" if s.milestone else "none yet"
    print(f"milestone  {reached}")
    if s.next_milestone:
        size, label = s.next_milestone
        print(f"next       {label} at {size} sentences: {size - s.recorded} to go")
    print("sizes      ~50 quick voice, 400 usable, 800+ good, 1600 best")
    print(f"messages   {s.messages}")
    if s.next_prompt:
        print(f"resume at  {s.next_prompt.id}  {s.next_prompt.text}")
    from engines.banking.training.plan import estimate_seconds, readiness
    from engines.banking.training.run import load_state

    print(f"training   {readiness(bank).message}")
    run = load_state(bank)
    if run is not None:
        print(f"voice run  {run.steps_done} of {run.steps} steps from base {run.base}"
              + ("" if run.finished else f" (continue: timbre bank train {args.project})"))
    seconds, source = estimate_seconds(bank)
    if seconds:
        print(f"estimate   {seconds / 3600:.1f} h for the default 2000 steps here ({source})")
    worst = [(p, t) for p, t in bank.review() if t.verdict != "green"][: args.worst]
    if worst:
        print("to redo:")
        for prompt, take in worst:
            print(f"  {MARKS[take.verdict]}{prompt.id}  {'; '.join(take.reasons)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from desktop.cli.common import ProgressBar
    from engines.banking.export import export_ljspeech, export_messages

    bank = _bank(args.project)
    if args.messages:
        report = export_messages(bank, args.output, args.search)
        print(f"wrote {report.files} messages ({report.seconds:.1f} s) to {report.folder}")
        return 0
    bar = ProgressBar("exporting")
    try:
        report = export_ljspeech(bank, args.output, include_amber=not args.green_only, progress=bar)
    finally:
        bar.close()
    print(
        f"wrote {report.files} clips ({report.seconds / 60:.1f} min, 22050 Hz mono) and metadata.csv to {report.folder}"
    )
    if report.skipped:
        print(
            f"left out {len(report.skipped)} take(s) marked red or amber: {', '.join(report.skipped[:10])}"
        )
    return 0


def cmd_message(args: argparse.Namespace) -> int:
    from engines.banking.bank import read_take

    bank = _bank(args.project)
    prompt, _take, report = bank.add_message(args.text, read_take(args.file), args.tag)
    print(f'banked   {prompt.id}  "{prompt.text}"  tags: {", ".join(prompt.tags) or "-"}')
    _print_report(report)
    return 0


def cmd_messages(args: argparse.Namespace) -> int:
    bank = _bank(args.project)
    found = bank.messages(args.query)
    for prompt, take in found:
        mark = MARKS[take.verdict] if take else "   "
        print(f"{mark}{prompt.id}\t{prompt.text}\t[{', '.join(prompt.tags)}]")
    if not found:
        print("no messages" + (f" matching '{args.query}'" if args.query else ""))
    return 0


def cmd_consent(args: argparse.Namespace) -> int:
    from engines.banking.bank import read_take
    from engines.banking.voice_import import statement_for

    bank = _bank(args.project)
    text = statement_for(bank, args.name)
    if not args.file:
        print("Have the person read this aloud and record it:")
        print(f"  {text}")
        print(f"then: timbre bank consent {args.project} --name {args.name!r} RECORDING")
        return 0
    clip = read_take(args.file)  # refused before the statement is stored as a prompt
    prompt = bank.consent_prompt(text)
    take, report = bank.add_take(prompt.id, clip, accept=True, source_name=args.file)
    _print_report(report)
    print(f"consent recording stored (take {take.id}); it is checked when the voice is imported")
    return 0


def cmd_import_voice(args: argparse.Namespace) -> int:
    from engines.banking.voice_import import import_piper_voice

    bank = _bank(args.project)
    voice = import_piper_voice(bank, args.model, args.name, config=args.config)
    print(
        f"added '{voice.name}' to the voice library: {len(voice.clips)} reference takes, consent recorded, Piper model attached"
    )
    return 0


class _TrainPrinter:
    """Step lines on stdout (a line every few seconds, and the last step), so a log or a
    pipe sees progress too; the bar on a terminal."""

    def __init__(self) -> None:
        import time

        self._time = time.monotonic
        self._last = 0.0
        self._bar = None

    def __call__(self, p) -> None:
        if not p.stage.startswith("training"):
            return
        now = self._time()
        if now - self._last >= 5.0 or p.done >= p.total:
            self._last = now
            print(f"step {int(p.done)}/{int(p.total)}  {p.stage.removeprefix('training: ')}",
                  flush=True)


def cmd_train(args: argparse.Namespace) -> int:
    import signal

    from desktop.cli.batch_cmds import ray_address
    from engines.banking.training.run import TrainOptions
    from engines.banking.training.voice import make_voice
    from engines.cancel import CancelToken
    from engines.errors import BadInput

    ray = ray_address(args.ray)
    if args.workers is not None and ray is None:
        raise BadInput("--workers is for --ray local (the private cluster's CPUs).")
    bank = _bank(args.project)
    cancel = CancelToken()

    def stop(signum, _frame) -> None:  # first Ctrl-C: save and stop; second: default
        print("stopping after this step (saving progress)...", flush=True)
        cancel.cancel()
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    opts = TrainOptions(
        base=args.base,
        steps=args.steps,
        device=args.device or ("auto" if ray else "cpu"),
        batch_size=args.batch_size,
        espeak_voice=args.language,
        checkpoint_every_s=args.checkpoint_minutes * 60.0,
        checkpoint_every_steps=args.checkpoint_steps,
        restart=args.restart,
    )
    try:
        result = make_voice(
            bank, opts, name=args.name, force=args.force, check=not args.no_check,
            progress=_TrainPrinter(), cancel=cancel, ray=ray, workers=args.workers,
        )
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    state = result.training.state
    print(f"trained    {state.steps_done} steps from base {state.base}, "
          f"{result.training.seconds / 60:.1f} min this run")
    print(f"voice      {result.onnx} (+ .json)")
    if result.gate is not None:
        for line in result.gate.lines():
            print(line)
    if result.added:
        print(f"added      '{result.added}' to the voice library; speak with: "
              f"timbre speak --voice {result.added!r} \"TEXT\"")
        return 0
    if result.gate is None:
        print("not added  (--no-check): add it with --force, or run again without --no-check")
        return 0
    print("not added  the voice did not pass its check; train longer (--steps), record more "
          "takes, or add it anyway with --force")
    return 2
