"""`make demo` prints the demo, not pip (issue 14)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_prints_the_demo(tmp_path: Path):
    # The install step is taken as done (-o): this checks what make itself and the demo print.
    # As a person runs it from a shell: not as a sub-make of `make test` (which would print
    # "make[1]: Entering directory …" around the demo).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(["make", "-o", ".venv/.installed", "demo", f"PY={sys.executable}",
                           f"DEMO_ARGS=--out {tmp_path}"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert lines[0].startswith("━━━ 1."), lines[:3]  # no echoed recipe, no installer line
    noise = [line for line in lines if any(w in line for w in ("WARNING", "Warning", "Traceback", "pip ", "Unclosed"))]
    assert not noise, noise
    assert lines[-1] == "Demo finished: every step behaved as expected."
    # The screenshot set: brief, card, digest, board and radar in both languages, side by side.
    for lang in ("zh", "en"):
        for screen in ("brief", "card", "digest", "board", "radar"):
            assert (tmp_path / f"{lang}-{screen}.txt").read_text(encoding="utf-8").strip(), (lang, screen)
        for chart in ("digest", "board", "radar"):
            assert (tmp_path / f"{lang}-{chart}.png").read_bytes().startswith(b"\x89PNG"), (lang, chart)
    assert "Checklist" in (tmp_path / "en-card.txt").read_text(encoding="utf-8")
    assert "待办清单" in (tmp_path / "zh-card.txt").read_text(encoding="utf-8")
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "en-radar.png" in index and "zh-radar.png" in index


def test_install_step_is_quiet_and_pyproject_raises_no_backend_warning():
    recipe = subprocess.run(["make", "-n", "-B", "install"], cwd=REPO, capture_output=True, text=True).stdout \
        if shutil.which("make") else (REPO / "Makefile").read_text()
    pip_lines = [line for line in recipe.splitlines() if " -m pip " in line]
    assert len(pip_lines) == 2 and all("-qq" in line and "PYTHONWARNINGS=ignore" in line for line in pip_lines)
    text = (REPO / "pyproject.toml").read_text()
    assert 'license = "MIT"' in text and '"setuptools>=77"' in text  # the SPDX string form: no deprecation note


@pytest.mark.skipif(os.environ.get("SALESBOT_SLOW_INSTALL_CHECK") != "1",
                    reason="builds the package in a fresh venv; set SALESBOT_SLOW_INSTALL_CHECK=1")
def test_editable_build_is_silent(tmp_path: Path):
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "v")], check=True)
    pip = [str(tmp_path / "v" / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "-e", str(REPO)]
    plain = subprocess.run(pip, capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    assert "project.license" not in plain.stdout + plain.stderr
    quiet = subprocess.run(pip[:4] + ["-qq"] + pip[4:], env=dict(os.environ, PYTHONWARNINGS="ignore"),
                           capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0 and not (quiet.stdout + quiet.stderr).strip(), quiet.stdout + quiet.stderr
