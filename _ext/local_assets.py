"""Serve MathJax, require.js, the Jupyter widget manager and Vega from the built site itself.

By default the website loads MathJax, require.js and ``@jupyter-widgets/html-manager`` from public
CDNs, so a reader offline, in a classroom behind a firewall, or where those CDNs are blocked gets
raw ``$...$`` source and no widgets. This Sphinx extension (loaded through
``sphinx.local_extensions`` in ``_config.yml``) makes the site self-contained:

1. On ``config-inited`` it makes sure the npm packages pinned in ``package.json`` and
   ``package-lock.json`` are installed (``npm ci`` when ``node_modules`` is missing or older than
   the lock file), then points Sphinx's ``mathjax_path`` and MyST-NB's ``nb_ipywidgets_js`` at
   copies under ``_static/``.
2. On ``builder-inited`` it copies the files the pages need from ``node_modules`` into the build's
   ``_static/`` folder (nothing is committed but ``package.json`` and its lock file), Vega,
   Vega-Lite and vega-embed included, under ``_static/vega/``.
3. Every page loads ``_static/explorers.js``, which embeds the book's explorers (Vega-Lite charts
   that ``attention_utils.explorers`` puts in cell outputs) with those local copies, and
   ``widgets-static.css``/``.js``, which hide ipywidgets controls (dead without a kernel) and say
   above each such output how to run it live.

If npm is not available (a reader's machine without Node.js), the pages keep the CDN URLs and the
build says so in an info message; a Sphinx warning would fail ``-W`` builds for no fault of the
book. Set ``WHERE_TO_LOOK_LOCAL_ASSETS=require`` (``.ci/run`` does) to make that an error instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

ENV_VAR = "WHERE_TO_LOOK_LOCAL_ASSETS"

#: Where each asset goes under the build's ``_static/`` folder.
MATHJAX_DIR = "mathjax"
REQUIRE_JS = "requirejs/require.js"
WIDGETS_DIR = "jupyter-widgets"
VEGA_DIR = "vega"
#: The UMD bundles of Vega, Vega-Lite and vega-embed (explorers.js loads them in this order).
VEGA_BUNDLES = {name: f"{name}/build/{name}.min.js" for name in ("vega", "vega-lite", "vega-embed")}
CDN = "https://cdn.jsdelivr.net/npm/"

#: MathJax 3's combined TeX + MathML input, CommonHTML output component; it loads its fonts and
#: any extension a page asks for (``\require``, the menu's accessibility tools) relative to itself.
MATHJAX_ENTRY = "tex-mml-chtml.js"
_MATHJAX_PARTS = [MATHJAX_ENTRY, "input", "output/chtml", "ui", "a11y", "sre", "adaptors"]

#: The html-manager's AMD bundle: ``@jupyter-widgets/base``, ``controls`` and ``output``, which are
#: all the book's widgets use, registered with require.js (needed also by third-party widgets and
#: by Thebe's widget support). The webfonts beside it are the controls' icons.
WIDGETS_ENTRY = "embed-amd.js"

#: Our own small script (``_ext/static/``), not a copy of a package: see its header.
MATHJAX_SHIM = "widgets-mathjax3.js"
STATIC_DIR = Path(__file__).resolve().parent / "static"
_WIDGETS_FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".eot", ".svg")


def _node_modules(root: Path) -> Path:
    return root / "node_modules"


def _installed(root: Path) -> bool:
    """True when node_modules holds what the lock file asks for (npm's own marker is newer)."""
    marker = _node_modules(root) / ".package-lock.json"
    lock = root / "package-lock.json"
    return marker.is_file() and marker.stat().st_mtime >= lock.stat().st_mtime


def _npm_ci(root: Path) -> str | None:
    """Run ``npm ci``; return None on success, else the reason it could not run."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm was not found on PATH"
    logger.info("[local_assets] installing the site's JavaScript from the npm registry (npm ci)")
    cmd = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        subprocess.run(cmd, cwd=root, check=True, capture_output=True, text=True, timeout=900)
    except subprocess.CalledProcessError as err:
        return f"`npm ci` failed: {(err.stderr or err.stdout).strip()[-2000:]}"
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"`npm ci` could not run: {err}"
    return None


def _missing_files(root: Path) -> list[str]:
    nm = _node_modules(root)
    needed = [
        nm / "mathjax" / "es5" / MATHJAX_ENTRY,
        nm / "requirejs" / "require.js",
        nm / "@jupyter-widgets" / "html-manager" / "dist" / WIDGETS_ENTRY,
        *(nm / bundle for bundle in VEGA_BUNDLES.values()),
    ]
    return [str(p.relative_to(root)) for p in needed if not p.is_file()]


def configure(app: Sphinx, config) -> None:
    """Install the packages if needed and point the pages at the local copies."""
    root = Path(app.confdir)
    if str(STATIC_DIR) not in config.html_static_path:
        config.html_static_path.append(str(STATIC_DIR))
    mode = os.environ.get(ENV_VAR, "auto").strip().lower()
    app.local_assets_served = False  # type: ignore[attr-defined]
    if mode == "cdn":
        logger.info(f"[local_assets] {ENV_VAR}=cdn: loading MathJax and widgets from public CDNs")
        return
    problem = None
    if not (root / "package-lock.json").is_file():
        problem = "package-lock.json is missing"
    elif not _installed(root):
        problem = _npm_ci(root)
    if problem is None and _missing_files(root):
        problem = "node_modules lacks " + ", ".join(_missing_files(root))
    if problem is not None:
        message = (
            f"[local_assets] {problem}; the site will load MathJax, require.js, the widget "
            "manager and Vega (the explorers) from public CDNs (install Node.js and npm to serve "
            "them locally)"
        )
        if mode == "require":
            raise ExtensionError(f"{message}. {ENV_VAR}=require makes this an error.")
        logger.info(message)
        return

    config.mathjax_path = f"{MATHJAX_DIR}/{MATHJAX_ENTRY}"
    config.nb_ipywidgets_js = {
        REQUIRE_JS: {},
        f"{WIDGETS_DIR}/{WIDGETS_ENTRY}": {
            # Only widget modules outside base/controls/output would be fetched from here; the
            # book has none, and the site test fails on any request that leaves the machine.
            "data-jupyter-widgets-cdn": "https://cdn.jsdelivr.net/npm/",
        },
    }
    app.local_assets_served = True  # type: ignore[attr-defined]
    logger.info(
        "[local_assets] MathJax, require.js, the widget manager and Vega are served from _static/"
    )


def _copy_tree(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def copy_assets(app: Sphinx) -> None:
    """Copy the assets into ``<outdir>/_static`` before pages are written (so they get ``?v=``)."""
    if app.builder is None or app.builder.format != "html":
        return
    if not getattr(app, "local_assets_served", False):
        return
    root = Path(app.confdir)
    nm = _node_modules(root)
    static = Path(app.outdir) / "_static"
    for part in _MATHJAX_PARTS:
        src = nm / "mathjax" / "es5" / part
        if src.exists():
            _copy_tree(src, static / MATHJAX_DIR / part)
    _copy_tree(nm / "requirejs" / "require.js", static / REQUIRE_JS)
    dist = nm / "@jupyter-widgets" / "html-manager" / "dist"
    _copy_tree(dist / WIDGETS_ENTRY, static / WIDGETS_DIR / WIDGETS_ENTRY)
    for font in dist.iterdir():
        if font.suffix in _WIDGETS_FONT_SUFFIXES:
            _copy_tree(font, static / WIDGETS_DIR / font.name)
    for name, bundle in VEGA_BUNDLES.items():
        _copy_tree(nm / bundle, static / VEGA_DIR / f"{name}.min.js")
    logger.info(
        "[local_assets] copied MathJax, require.js, the widget manager and Vega into _static/"
    )


def _cdn_bundles(root: Path) -> dict[str, str]:
    """The pinned Vega bundles on the CDN, for a build without npm (versions from package.json)."""
    import json

    pins = json.loads((root / "package.json").read_text(encoding="utf-8"))["dependencies"]
    return {
        name: f"{CDN}{name}@{pins[name]}/{bundle.split('/', 1)[1]}"
        for name, bundle in VEGA_BUNDLES.items()
    }


def add_site_scripts(app: Sphinx) -> None:
    """Every page: explorers.js (embeds the explorers) and the static-widget CSS and note."""
    attributes = {}
    if not getattr(app, "local_assets_served", False):
        import json

        attributes["data-vega-cdn"] = json.dumps(_cdn_bundles(Path(app.confdir)))
    # In <head>, not deferred: it must run before the cell outputs' own loaders (see its header).
    app.add_js_file("explorers.js", priority=200, **attributes)
    app.add_js_file("widgets-static.js", priority=200)
    app.add_css_file("widgets-static.css")


def dedupe_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Drop repeated ``<script>`` entries from a page.

    sphinx-thebe 0.3.1 registers its inline configuration (``const THEBE_JS_URL = ...``) once per
    read phase, so a page can get it twice, and the second copy is a SyntaxError in the browser.
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # The same inline script can come as filename None and as filename "".
        attributes = repr(sorted(getattr(js, "attributes", {}).items()))
        key = (getattr(js, "filename", None) or "", attributes)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def _require_config() -> str:
    """require.js configuration, read by require.js when it loads (a global ``require`` object).

    The widget manager derives the URL of its webfonts from the require.js module id
    ``@jupyter-widgets/html-manager/dist/libembed-amd``; without a path for that id they would be
    looked for next to each page. ``data-content_root`` is Sphinx's relative path to the site root.
    """
    return (
        "var require = {paths: {'@jupyter-widgets/html-manager/dist': "
        f"(document.documentElement.dataset.content_root || './') + '_static/{WIDGETS_DIR}'}}}};"
    )


def page_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Per page: configure require.js before it loads, add the MathJax 3 shim for widgets."""
    scripts = context.get("script_files")
    if not scripts:
        return
    filenames = [str(getattr(js, "filename", "") or "") for js in scripts]
    if any(name.endswith(f"{WIDGETS_DIR}/{WIDGETS_ENTRY}") for name in filenames):
        app.add_js_file(None, body=_require_config(), priority=499)
    if any(name.endswith(("embed-amd.js", "embed.js")) for name in filenames) and any(
        "mathjax" in name for name in filenames
    ):
        # Deferred, and after MathJax's own deferred script: both run before the widgets render.
        app.add_js_file(MATHJAX_SHIM, defer="defer", priority=500)


def setup(app: Sphinx) -> dict:
    # After sphinx.ext.mathjax and myst_nb have registered their config values.
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", configure, priority=900)
    app.connect("html-page-context", page_scripts, priority=900)
    app.connect("html-page-context", dedupe_scripts, priority=901)
    app.connect("builder-inited", copy_assets)
    app.connect("builder-inited", add_site_scripts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
