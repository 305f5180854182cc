"""``timbre serve``: the studio's voices as a local OpenAI-compatible speech service."""

from __future__ import annotations

import argparse
import os


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="speak library voices (your own banked voice too) over an OpenAI-compatible HTTP API",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=5150, help="port (5150; 0 picks a free one)")
    p.add_argument(
        "--token",
        default=os.environ.get("TIMBRE_SERVE_TOKEN"),
        help="required from clients as 'Authorization: Bearer TOKEN'; needed on any address "
        "but 127.0.0.1 (default: $TIMBRE_SERVE_TOKEN)",
    )
    p.add_argument("--quiet", action="store_true", help="do not log each request")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    import sys

    from engines.serving.speech_api import SpeechServer, list_voices

    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    server = SpeechServer(args.host, args.port, args.token, log=log)
    voices = ", ".join(v.id for v in list_voices())
    print(f"serving on {server.url}  (POST /v1/audio/speech, GET /v1/voices)", flush=True)
    print(f"voices     {voices}", flush=True)
    if args.token:
        print("token      required (Authorization: Bearer ...)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
