"""The first code cell of every chapter: on Colab, install attention_utils; elsewhere, nothing.

A chapter opened in Colab (the rocket menu's "Colab" button) comes alone from GitHub, without this
repository's ``attention_utils`` package; this cell installs it from the repository named in
``_config.yml`` (``repository.url`` and ``repository.branch``, the one place the address lives).
Locally and on Binder the package is already importable and the cell does nothing.

``tests/test_site.py::test_chapters_start_with_colab_cell`` checks every chapter starts with exactly
this cell. A fork that changes ``repository.url`` runs::

    python _ext/colab_cell.py          # rewrite the cell in every chapter (outputs untouched)
    python _ext/colab_cell.py --check  # exit 1 if a chapter's first code cell differs

A chapter that lacks the cell gets it inserted before its first code cell; re-execute that notebook
afterwards (``jupyter nbconvert --to notebook --execute --inplace ...``) so its execution counts
run 1..N again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# On Google Colab, install this book's attention_utils"
# On the website the cell is folded away behind a "show" toggle (MyST-NB's hide-cell tag): it is
# plumbing for Colab, not part of the chapter.
TAG = "hide-cell"


def repository(root: Path = ROOT) -> tuple[str, str]:
    """``(url, branch)`` from _config.yml."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "master")


def cell_source(root: Path = ROOT) -> str:
    """The exact source of the Colab cell for the repository in _config.yml."""
    url, branch = repository(root)
    return f'''{MARKER} from its repository first.
# Everywhere else (a local install, Binder) it is already importable and this cell does nothing.
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("attention_utils") is None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet",
         "attention-utils @ git+{url}@{branch}"],
        check=True,
    )
    importlib.invalidate_caches()'''


def first_code_cell(nb: dict) -> dict | None:
    return next((c for c in nb["cells"] if c["cell_type"] == "code"), None)


def _tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def update(path: Path, source: str) -> bool:
    """Put the cell first in ``path``; return True when the file changed."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = first_code_cell(nb)
    if cell is not None and _source(cell) == source and _tags(cell) >= {TAG}:
        return False
    if cell is not None and _source(cell).startswith(MARKER):
        cell["source"] = source.splitlines(keepends=True)
        cell["metadata"]["tags"] = sorted(_tags(cell) | {TAG})
    else:
        new = {"cell_type": "code", "execution_count": None, "id": "colab-install",
               "metadata": {"tags": [TAG]}, "outputs": [],
               "source": source.splitlines(keepends=True)}
        index = nb["cells"].index(cell) if cell is not None else len(nb["cells"])
        nb["cells"].insert(index, new)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="report chapters that differ; change nothing"
    )
    args = parser.parse_args(argv)
    source = cell_source()
    differ = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        cell = first_code_cell(nb)
        if cell is None or _source(cell) != source or TAG not in _tags(cell):
            differ.append(path)
            if not args.check:
                update(path, source)
    for path in differ:
        print(f"{'differs' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    return 1 if (args.check and differ) else 0


if __name__ == "__main__":
    sys.exit(main())
