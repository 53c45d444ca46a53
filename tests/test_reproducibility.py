"""The rule for printed numbers (README, "Printed numbers"), checked on the committed notebooks.

A number from deterministic computation is compared exactly by nbval. A number from training or
sampling is printed on a line whose label ends in "(trained)", the sanitizer hides only the rest
of that line, and the cell asserts the claim the prose makes. These tests read the notebooks and
the sanitizer file; they execute nothing.
"""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
MARKER = "(trained):"


def _sanitizers() -> list[tuple[str, str]]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(parser[section]["regex"], parser[section]["replace"]) for section in parser.sections()]


def _sanitize(text: str) -> str:
    for regex, replace in _sanitizers():
        text = re.sub(regex, replace, text)
    return text


def _code_cells(path: Path) -> list[dict]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def _text(output: dict) -> str:
    return "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))


def test_sanitizer_hides_only_the_digits_of_trained_lines():
    text = ("held-out accuracy per seed (trained): 1.000, 0.992\n"
            "matched filter, held-out accuracy: 0.941\n"
            "mean (trained): 0.5 | and more (trained): 0.7\n")
    assert _sanitize(text) == ("held-out accuracy per seed (trained): …\n"
                               "matched filter, held-out accuracy: 0.941\n"
                               "mean (trained): …\n")
    # Two runs that differ only after the marker compare equal; a change in the label does not.
    assert _sanitize("w (trained): 16.57\n") == _sanitize("w (trained): 16.61\n")
    assert _sanitize("w (trained): 16.57\n") != _sanitize("v (trained): 16.57\n")


def test_sanitizer_hides_tqdm_timings_only():
    bar = "epochs: 100%|##########| 5/5 [00:01<00:00, 3.52it/s, loss=0.46]"
    assert _sanitize(bar) == "epochs: 100%|##########| 5/5 [TIME]"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_trained_lines_come_from_cells_that_assert(path):
    """A cell that prints a trained number (or the code cell right after it) checks a claim."""
    cells = _code_cells(path)
    asserts = [bool(re.search(r"^\s*(assert|torch\.testing\.assert_close)\b",
                              "".join(cell["source"]), re.M)) for cell in cells] + [False]
    for index, cell in enumerate(cells):
        printed = "\n".join(_text(output) for output in cell.get("outputs", []))
        if MARKER in printed or "(trained)" in "".join(cell["source"]):
            assert asserts[index] or asserts[index + 1], (
                f"{path.name} code cell {index} prints a trained number but asserts nothing")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_whole_cell_ignores_only_for_widgets(path):
    """`# NBVAL_IGNORE_OUTPUT` is kept for interactive widgets, whose Output nbval cannot read."""
    for index, cell in enumerate(_code_cells(path)):
        source = "".join(cell["source"])
        tags = cell["metadata"].get("tags", [])
        if "NBVAL_IGNORE_OUTPUT" in source or "nbval-ignore-output" in tags:
            assert "interact(" in source or "widgets." in source, (
                f"{path.name} code cell {index} hides all its output from nbval; mark the trained "
                "lines with '(trained)' instead")
