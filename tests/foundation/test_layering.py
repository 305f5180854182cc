"""The layering rule, checked: engines and the store stay light and Qt-free."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, cwd=REPO, check=True,
    ).stdout
    return set(out.split())


def test_engine_and_store_imports_leave_torch_audiocraft_and_qt_out():
    mods = _modules_after(
        "import engines, desktop.project, desktop.project.store, desktop.project.timeline,"
        " engines.registry, engines.mixing, engines.loudness, engines.devices,"
        " engines.modelstore, engines.audio_io\n"
        "engines.engine_infos()"  # availability checks must not import torch either
    )
    for heavy in ("torch", "audiocraft", "PySide6", "pyqtgraph", "transformers", "onnxruntime"):
        assert heavy not in mods, f"{heavy} was imported by the engine/store layer"


def test_cli_help_does_not_import_torch_or_qt():
    mods = _modules_after(
        "import desktop.cli.main as m\n"
        "m.build_parser()"
    )
    assert "torch" not in mods and "PySide6" not in mods


def test_import_linter_contracts_hold():
    linter = REPO / ".venv" / "bin" / "lint-imports"
    exe = str(linter) if linter.exists() else "lint-imports"
    result = subprocess.run([exe], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout
