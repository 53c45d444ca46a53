"""The GitHub Pages workflow publishes what CI proves: the same strict build, both editions."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


def _steps() -> list[dict]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return workflow["jobs"]["build"]["steps"]


def _build_command(text: str) -> str:
    match = re.search(r"^\s*(?:run: )?((?:\S+=\S+ )*jupyter-book build [^\n]*)$", text, re.M)
    assert match, "no jupyter-book build command"
    return match.group(1).strip()


def test_pages_builds_like_ci():
    """Same command and flags as .ci/run's build (local assets required, warnings are errors)."""
    steps = _steps()
    build = next(s for s in steps if "jupyter-book build" in s.get("run", ""))
    ci = _build_command((ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    assert ci.endswith(build["run"].strip()), (ci, build["run"])
    assert build["env"]["WHERE_TO_LOOK_LOCAL_ASSETS"] == "require"
    assert "WHERE_TO_LOOK_LOCAL_ASSETS=require" in ci


def test_pages_installs_the_pins_and_publishes_both_editions():
    steps = _steps()
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert "-r requirements.txt" in install["run"]
    assert "download.pytorch.org/whl/cpu" in install["run"], "CPU wheels, as the README says"
    checks = " ".join(s.get("run", "") for s in steps)
    assert "_build/html/zh/index.html" in checks, "the Chinese edition must be there"
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert workflow["permissions"]["pages"] == "write"
    assert workflow[True]["push"]["branches"] == ["main"]  # YAML reads the key `on` as True
