"""Binder: binder/ installs what requirements.txt pins, with CPU-only PyTorch and the right Python.

repo2docker (what mybinder.org runs) reads only binder/ when that folder exists, so binder/ must not
drift from requirements.txt. ``jupyter-repo2docker --no-build --debug`` prints the Dockerfile it
would build, without Docker and without the network; the test reads from it which Python the
image gets and which file pip installs, and when.

Without repo2docker the last test is skipped with the pip command to run, except in CI (the
environment variable CI is set), where it fails.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"
PYTHON = "3.11"  # binder/runtime.txt; repo2docker's default would be 3.10


def _requirement_lines(path: Path) -> list[str]:
    """The lines pip reads: comments and blank lines dropped."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def test_binder_pins_the_same_versions_with_cpu_torch():
    """binder/requirements.txt is requirements.txt line for line, but torch from the CPU index."""
    main = _requirement_lines(ROOT / "requirements.txt")
    binder = _requirement_lines(BINDER / "requirements.txt")
    assert binder.count(CPU_INDEX) == 1, "PyTorch's CPU wheel index, once"
    binder.remove(CPU_INDEX)
    torch = [line for line in main if re.match(r"torch\s*==", line)]
    assert len(torch) == 1, "requirements.txt pins torch exactly once"
    version = torch[0].split("==", 1)[1].strip()
    expected = [f"torch=={version}+cpu" if line == torch[0] else line for line in main]
    assert binder == expected, "binder/requirements.txt has drifted from requirements.txt"
    assert not any(line.startswith("--index-url") for line in binder), "PyPI stays the main index"


def test_binder_python_version():
    """runtime.txt asks for the Python that CI tests, inside the range pyproject.toml allows."""
    assert (BINDER / "runtime.txt").read_text(encoding="utf-8").strip() == f"python-{PYTHON}"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    lower = re.search(r'requires-python\s*=\s*">=(\d+)\.(\d+)"', pyproject)
    assert lower and tuple(map(int, lower.groups())) <= tuple(map(int, PYTHON.split(".")))
    assert not (BINDER / "environment.yml").exists(), "one way to install: binder/requirements.txt"


def _repo2docker() -> str:
    exe = Path(sys.executable).with_name("jupyter-repo2docker")
    found = str(exe) if exe.exists() else shutil.which("jupyter-repo2docker")
    if found is None:
        message = "jupyter-repo2docker is not installed: pip install jupyter-repo2docker==2026.4.0"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so the Binder check must run: {message}")
        pytest.skip(message)
    return found


def test_repo2docker_would_install_the_pins_on_the_intended_python():
    """The Dockerfile repo2docker would build: Python 3.11, binder/requirements.txt, the repo."""
    cmd = [
        _repo2docker(),
        "--no-build",
        "--debug",
        "--user-id",
        "1000",
        "--user-name",
        "jovyan",
        str(ROOT),
    ]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    log, dockerfile = result.stderr, result.stdout
    assert f"Building conda environment for python={PYTHON}" in log
    # The environment's Python comes from repo2docker's lock file for that version.
    # (repo2docker escapes the file names it copies in: "-2e" is ".", "-2d" is "-", "-2f" is "/".)
    unescaped = re.sub(r"-([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), dockerfile)
    lock = re.search(
        r"environment\.py-(\d+)\.(\d+)-linux-64\.lock\S* /tmp/env/environment\.lock", unescaped
    )
    assert lock and f"{lock.group(1)}.{lock.group(2)}" == PYTHON, (
        "the conda lock file for the runtime.txt Python"
    )
    # pip installs binder/requirements.txt (not the top-level file) into the kernel's environment,
    # after the whole repository is copied in, so that its `-e .` line finds attention_utils.
    install = '${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r "binder/requirements.txt"'
    lines = dockerfile.splitlines()
    runs = [i for i, line in enumerate(lines) if line.startswith("RUN ") and install in line]
    assert len(runs) == 1, "pip installs binder/requirements.txt exactly once"
    copies = [i for i, line in enumerate(lines) if re.match(r"COPY .*src/ \$\{REPO_DIR\}/$", line)]
    assert copies and copies[0] < runs[0], "the repository is copied before pip runs"
    assert "ENV KERNEL_PYTHON_PREFIX=${NB_PYTHON_PREFIX}" in dockerfile, (
        "one environment, kernel and server"
    )
    assert '-r "requirements.txt"' not in dockerfile, "the top-level requirements.txt is not used"


def test_repo2docker_lock_file_has_the_python():
    """repo2docker's lock file for the chosen version really holds that Python."""
    _repo2docker()  # skips or fails with the install hint
    spec = importlib.util.find_spec("repo2docker")  # located, not imported (it warns on import)
    assert spec is not None and spec.origin
    lock = (
        Path(spec.origin).parent / "buildpacks" / "conda" / f"environment.py-{PYTHON}-linux-64.lock"
    )
    assert lock.is_file()
    assert re.search(rf"/python-{re.escape(PYTHON)}\.\d+-", lock.read_text(encoding="utf-8"))
