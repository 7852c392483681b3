"""The layering rule guards every core module, the ones added after it was written too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip


def test_a_new_core_module_that_imports_qt_breaks_the_contract(tmp_path: Path) -> None:
    for package in ("app", "widgets"):
        shutil.copytree(REPO / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "_data"))  # fmt: skip
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    kept = lint(tmp_path)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    (tmp_path / "app" / "brand_new.py").write_text("from PySide6.QtCore import QTimer\n")
    (tmp_path / "app" / "analysis" / "deep_new.py").write_text("import pyqtgraph\n")
    (tmp_path / "app" / "via_shell.py").write_text("from app.ui import wall\n")
    broken = lint(tmp_path)
    assert broken.returncode != 0
    for line in ("app.brand_new -> PySide6", "app.analysis.deep_new -> pyqtgraph",
                 "app.via_shell -> app.ui.wall"):  # fmt: skip
        assert line in broken.stdout, broken.stdout
