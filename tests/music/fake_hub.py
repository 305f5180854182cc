"""A local HTTP server that answers the way the Hugging Face hub does for downloads.

It implements the three requests ``huggingface_hub`` makes to fetch model files: the model
info with file metadata (``/api/models/ID``), the ``HEAD`` of each file's ``resolve`` URL
(commit, ETag, size) and its ``GET`` with ``Range`` for resuming. The app's real download
code runs against it unchanged through ``HF_ENDPOINT``, so tests see its progress, resume,
cancel and hash checks on real bytes — the hub itself cannot be reached from here.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


@dataclass
class FakeHub:
    repos: dict[str, dict[str, bytes]] = field(default_factory=dict)
    corrupt: set[str] = field(default_factory=set)  # "repo/file": bytes served differ from the listed hash
    ranges: list[tuple[str, int]] = field(default_factory=list)  # (path, first byte) of every GET
    pace_s: float = 0.0  # pause after every 64 KB sent, to act like a slow connection
    plain: dict[str, bytes] = field(default_factory=dict)  # other URL paths ("/x/y.th") and their bytes
    url: str = ""

    def add_folder(self, repo_id: str, folder: Path) -> None:
        self.repos[repo_id] = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    @staticmethod
    def commit(repo_id: str) -> str:
        return hashlib.sha1(repo_id.encode()).hexdigest()

    def info(self, repo_id: str) -> dict:
        return {
            "id": repo_id,
            "sha": self.commit(repo_id),
            "siblings": [
                {
                    "rfilename": name,
                    "size": len(data),
                    "lfs": {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "pointerSize": 134},
                }
                for name, data in sorted(self.repos[repo_id].items())
            ],
        }

    def data(self, repo_id: str, name: str) -> bytes:
        return self.plain[name] if not repo_id else self.repos[repo_id][name]

    def served(self, repo_id: str, name: str) -> bytes:
        data = self.data(repo_id, name)
        if f"{repo_id}/{name}" in self.corrupt:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        return data


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def _file(self) -> tuple[str, str] | None:
            path = unquote(urlparse(self.path).path)
            if path in hub.plain:
                return "", path
            parts = path.strip("/").split("/")
            if "resolve" not in parts:
                return None
            i = parts.index("resolve")
            repo_id, name = "/".join(parts[:i]), "/".join(parts[i + 2 :])
            if repo_id in hub.repos and name in hub.repos[repo_id]:
                return repo_id, name
            return None

        def _not_found(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.send_header("X-Error-Code", "RepoNotFound")
            self.end_headers()

        def _file_headers(self, repo_id: str, name: str, length: int) -> None:
            data = hub.data(repo_id, name)
            self.send_header("X-Repo-Commit", hub.commit(repo_id))
            self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(length))

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            found = self._file()
            if found is None:
                return self._not_found()
            self.send_response(200)
            self._file_headers(*found, len(hub.data(*found)))
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            path = urlparse(self.path).path
            if path.startswith("/api/models/"):
                repo_id = unquote(path[len("/api/models/") :]).split("/revision/")[0]
                if repo_id not in hub.repos:
                    return self._not_found()
                body = json.dumps(hub.info(repo_id)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return None
            found = self._file()
            if found is None:
                return self._not_found()
            data = hub.served(*found)
            start = 0
            wanted = self.headers.get("Range", "")
            if wanted.startswith("bytes="):
                start = int(wanted[len("bytes=") :].split("-")[0] or 0)
            hub.ranges.append(("/".join(found), start))
            self.send_response(206 if start else 200)
            self._file_headers(*found, len(data) - start)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            try:
                for i in range(start, len(data), 1 << 16):
                    self.wfile.write(data[i : i + (1 << 16)])
                    time.sleep(hub.pace_s)
            except (BrokenPipeError, ConnectionResetError):  # the client stopped reading
                self.close_connection = True
            return None

    return Handler


class serve:  # noqa: N801 - used as a context manager, like open()
    """``with serve(hub) as url:`` runs the fake hub on a free local port."""

    def __init__(self, hub: FakeHub) -> None:
        self.hub = hub
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))

    def __enter__(self) -> str:
        self.hub.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.hub.url

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def hub_and_store(fake: FakeHub, store: Path, monkeypatch) -> Iterator[FakeHub]:
    """``fake`` served as the hub (``HF_ENDPOINT``) and an empty model store at ``store``:
    what every download test starts from. The hub goes back to offline afterwards."""
    from engines import modelstore

    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(store))
    with serve(fake) as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        yield fake
    modelstore.configure_hub_env(allow_download=False)


def cancel_after(nbytes: int):
    """(cancel token, progress callback, bytes seen): the callback presses Cancel once a
    download has ``nbytes`` on disk — a user stopping it part-way."""
    from engines.cancel import CancelToken

    cancel, seen = CancelToken(), []

    def progress(p) -> None:
        seen.append(p.done)
        if p.done >= nbytes:
            cancel.cancel()

    return cancel, progress, seen
