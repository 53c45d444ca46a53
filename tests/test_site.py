"""The website as readers see it, in a real browser (Debian's headless Chromium, via Playwright).

The site is served from ``_build/html`` on 127.0.0.1 (a fresh strict build is made when it is
missing, so a plain ``pytest`` works; ``.ci/run`` builds first). Every page of the table of contents
is opened, then the search page, and on each page the test checks:

- no console error, no uncaught exception, no failed request, and no request that leaves the
  machine (each one is refused and reported): MathJax, require.js and the widget manager must be
  served by the site itself (``_ext/local_assets.py``);
- the maths is rendered: every ``.math`` element holds MathJax output, and no raw ``$...$``,
  ``\\(...\\)`` or ``\\[...\\]`` source is left in the text; outside code the text holds no ``$``
  and no TeX control sequence (``\\_``, ``\\texttt``), and the rendered maths shows no backslash
  and no MathJax error (text-mode ``\\texttt{num\\_hiddens}`` shows its backslash);
- every image has loaded; every embedded widget has been rendered, and no ipywidgets control
  (slider, drop-down, button) is visible: without a kernel it would be dead, so
  ``_ext/static/widgets-static.css`` hides it and a line says how to run the cell live;
- every explorer (``attention_utils.explorers``) renders, and moving each of its controls changes
  the drawn chart (``EXPLORER_CHAPTERS`` lists the chapters that must have one);
- every internal link points at a page that exists, and at an anchor that exists on it;
- the previous/next links follow the table of contents, and clicking "next" gets there;
- chapters: launch buttons (Binder, Colab, Thebe live code) for this repository, a download of the
  notebook, a reference list with every paper the chapter cites, links into the glossary.

The Chinese edition (``_build/html/zh/``, ``_ext/editions.py``) gets the same checks on every
page, and more: its body text is Chinese, its language switch leads to the same page in English
(and the English page's switch back to it), its Chinese glyphs render (each character drawn
differs from the missing-glyph box, so the screenshots show no tofu), and its interface speaks
Chinese: no button, label, tooltip or drop-down hint of the theme and its extensions is left in
English (``INTERFACE_ENGLISH_ALLOWED`` lists the exceptions: proper names and file types). A
solution drop-down of each chapter opens with a Chinese hint (screenshots under
``_build/screenshots/zh/solutions/``).

A full-page screenshot of each page goes to ``_build/screenshots/`` (``zh/`` for the Chinese
edition; git-ignored).

Without Playwright or Chromium the tests are skipped with what to install, except in CI (the
environment variable CI is set), where they fail.
"""

from __future__ import annotations

import functools
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
# A page must load and its network settle within this. 60 s was too little for chapter 13 (its
# explorer and figures) while chapters ran beside the browser on two cores: it loads in about 7 s
# on an idle machine and once took over 60 s under load.
TIMEOUT_MS = 120_000


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the browser tests must run: {message}")
    pytest.skip(message)


def _toc_docs() -> list[str]:
    """Every document of _toc.yml, in reading order (root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(str(Path(entry["file"]).with_suffix("")))
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return docs


DOCS = _toc_docs()
CHAPTERS = [d for d in DOCS if d.startswith("chapters/")]
#: URL prefix of each edition under _build/html/ (_ext/editions.py).
EDITIONS = {"en": "", "zh": "zh/"}


def _repository() -> tuple[str, str]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    url = config["repository"]["url"].rstrip("/")
    org_repo = urllib.parse.urlparse(url).path.strip("/")
    return org_repo, config["repository"].get("branch", "master")


def _cited_keys(doc: str) -> set[str]:
    nb = json.loads((ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    keys = set()
    for group in re.findall(r"\{(?:foot)?cite(?::[a-z]+)?\}`([^`]+)`", text):
        keys.update(k.strip() for k in group.split(","))
    return keys


# --------------------------------------------------------------------------------------------
# Fixtures: the built site, a local server, a browser


@pytest.fixture(scope="session")
def site() -> Path:
    """``_build/html``, built strictly if it is missing or lacks a page of the table of contents."""
    missing = [
        d
        for prefix in EDITIONS.values()
        for d in [*DOCS, "search"]
        if not (HTML / f"{prefix}{d}.html").is_file()
    ]
    if missing:
        exe = Path(sys.executable).with_name("jupyter-book")
        cmd = [
            str(exe) if exe.exists() else "jupyter-book",
            "build",
            str(ROOT),
            "-W",
            "-n",
            "--keep-going",
        ]
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, (
            f"the book build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return HTML


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def server(site):
    """The built site on http://127.0.0.1:<free port>/, in a thread."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (path := shutil.which(candidate)):
            return path
    return None


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install playwright==1.65.2")
    executable = _chromium()
    if executable is None:
        _unavailable(
            "Chromium was not found: apt-get install chromium (or set CHROMIUM=/path/to/chrome)"
        )
    with sync_playwright() as pw:
        # Playwright gives each launch a fresh, temporary user-data-dir.
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Visit:
    """One page opened in a fresh browser context, with everything that went wrong recorded."""

    def __init__(self, browser, base: str):
        self.base = base
        self.origin = base.rstrip("/")
        self.problems: list[str] = []
        self.off_machine: list[str] = []
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, service_workers="block"
        )
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda err: self.problems.append(f"uncaught exception: {err}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.origin + "/") or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            self.off_machine.append(url)
            route.abort()

    def _console(self, msg):
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text} at {msg.location.get('url')}")

    def _failed(self, request):
        if request.url not in self.off_machine:
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def open(self, path: str, settle: bool = True):
        """Open a page; with ``settle``, wait until it has loaded and the network has been idle."""
        self.page.goto(self.base + path, wait_until="load" if settle else "domcontentloaded")
        if settle:
            self.page.wait_for_load_state("networkidle")
        return self.page

    def close(self):
        self.context.close()

    def assert_clean(self):
        assert not self.off_machine, "requests left the machine (refused):\n" + "\n".join(
            self.off_machine
        )
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def visit(browser, server):
    visits = []

    def make():
        visits.append(Visit(browser, server))
        return visits[-1]

    yield make
    for v in visits:
        v.close()


# --------------------------------------------------------------------------------------------
# Checks shared by every page


RAW_MATH_JS = r"""
() => {
  const article = document.querySelector('article') || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll(
      'pre, code, script, style, mjx-container, .highlight, textarea, .cell_input'
  ).forEach(e => e.remove());
  const text = copy.textContent;
  const around = (pattern) => (text.match(pattern) || []).map(s => s.replace(/\s+/g, ' '));
  const found = text.match(/\$[^$\n]+\$|\\\([^\n]*?\\\)|\\\[[^\n]*?\\\]/g) || [];
  // Outside maths and code: no dollar sign at all, and no TeX control sequence (\_, \texttt).
  const dollars = around(/.{0,30}\$.{0,30}/g);
  const controls = around(/.{0,30}\\(?:[A-Za-z]+|[_{}$%&#^~,;:!|])/g);
  // Inside maths: the text MathJax rendered, from its internal MathML, must hold no backslash
  // (text-mode \texttt{num\_hiddens} shows one) and no error node (an unknown macro).
  const inMaths = [];
  const doc = window.MathJax && MathJax.startup && MathJax.startup.document;
  const canSerialise = Boolean(doc && MathJax.startup.toMML);
  if (canSerialise) {
    for (const item of doc.math) {
      const serialised = MathJax.startup.toMML(item.root);
      const mml = new DOMParser().parseFromString(serialised, 'application/xml');
      const tokens = ['mi', 'mo', 'mn', 'mtext', 'ms']
          .flatMap(tag => Array.from(mml.getElementsByTagNameNS('*', tag)))
          .map(e => e.textContent).join(' ');
      if (tokens.includes('\\') || mml.getElementsByTagNameNS('*', 'merror').length) {
        inMaths.push(`${String(item.math).slice(0, 60)} -> ${tokens.slice(0, 60)}`);
      }
    }
  }
  const unrendered = Array.from(document.querySelectorAll('article .math'))
      .filter(e => !e.querySelector('mjx-container') && e.tagName !== 'MJX-CONTAINER')
      .map(e => e.textContent.slice(0, 80));
  return {raw: found.slice(0, 10), dollars: dollars.slice(0, 10), controls: controls.slice(0, 10),
          inMaths: inMaths.slice(0, 10), canSerialise, unrendered: unrendered.slice(0, 10),
          rendered: document.querySelectorAll('mjx-container').length};
}
"""

IMAGES_JS = """
async () => {
  const images = Array.from(document.images);
  for (const img of images) {
    if (!img.complete) { img.scrollIntoView(); await img.decode().catch(() => null); }
  }
  return images.map(
      img => ({src: img.currentSrc || img.src, ok: img.complete && img.naturalWidth > 0}));
}
"""


def _wait_for_mathjax(page) -> None:
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")


def check_maths(page) -> int:
    has_math = page.locator("article .math").count() > 0
    if has_math:
        _wait_for_mathjax(page)
    result = page.evaluate(RAW_MATH_JS)
    assert not result["unrendered"], f"maths MathJax did not render: {result['unrendered']}"
    assert not result["raw"], f"raw TeX source left in the page: {result['raw']}"
    assert not result["dollars"], f"a raw $ in the page's text: {result['dollars']}"
    assert not result["controls"], f"a TeX control sequence in the text: {result['controls']}"
    if has_math:
        assert result["rendered"] > 0, "MathJax's output elements (mjx-container) are present"
        assert result["canSerialise"], "MathJax.startup.toMML is needed to read the rendered maths"
        assert not result["inMaths"], (
            "rendered maths shows TeX source (a backslash or an error), e.g. from "
            "\\texttt{num\\_hiddens}; write \\mathtt{num\\_hiddens} or a symbol: "
            f"{result['inMaths']}"
        )
    return result["rendered"]


def check_images(page) -> int:
    images = page.evaluate(IMAGES_JS)
    broken = [i["src"] for i in images if not i["ok"]]
    assert not broken, f"images that did not load: {broken}"
    return len(images)


def check_widgets(page) -> int:
    expected = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    if expected:
        # The widget manager replaces each view script with the rendered widget.
        page.wait_for_function(
            "n => document.querySelectorAll('.jupyter-widgets.widget-container, "
            ".jupyter-widgets.widget-inline-hbox, .jupyter-widgets.widget-box').length >= n",
            arg=expected,
        )
        views = page.locator("article .jupyter-widgets")
        assert views.count() >= expected
        assert views.first.is_visible(), "a widget was rendered but is not visible"
    return expected


#: Chapters whose explorer must be on the page (both editions) and must work: every chapter of the
#: book has one (README, "Explorers"), so a chapter without one fails.
EXPLORER_CHAPTERS = set(CHAPTERS)

EXPLORER_CONTROLS_JS = """
(div) => Array.from(div.querySelectorAll('.vega-bindings input[type=range], .vega-bindings select'))
    .map((el, i) => {
      el.dataset.explorerControl = String(i);
      return {i, kind: el.tagName === 'SELECT' ? 'select' : 'range', name: el.name || '',
              value: el.value, min: el.min, max: el.max, step: el.step,
              options: el.tagName === 'SELECT' ? Array.from(el.options).map(o => o.value) : []};
    })
"""

MOVE_RANGE_JS = """
(el, value) => {
  el.value = value;
  el.dispatchEvent(new Event('input', {bubbles: true}));
  el.dispatchEvent(new Event('change', {bubbles: true}));
  return el.value;
}
"""


def _other_values(control: dict) -> list[str]:
    """Values of the control other than its current one: a drop-down's other options, a slider's
    far end, then its near end and its middle (a control may depend on another: a decoding step
    beyond a short source shows the last step)."""
    if control["kind"] == "select":
        return [o for o in control["options"] if o != control["value"]]
    lo, hi, now = float(control["min"]), float(control["max"]), float(control["value"])
    step = float(control["step"] or 1)
    middle = lo + round((hi - lo) / 2 / step) * step
    ends = (
        [control["max"], control["min"]]
        if hi - now >= now - lo
        else [control["min"], control["max"]]
    )
    return [v for v in [*ends, f"{middle:g}"] if float(v) != now]


def check_explorers(page, doc: str, edition: str = "en") -> list[str]:
    """Every explorer on the page renders, and each of its controls changes the drawn chart.

    For each control the chart's SVG is read before and after the move (a slider to its far end,
    a drop-down to another option) and must differ; a screenshot of the explorer is saved before
    and after under ``_build/screenshots/explorers/``. Returns the names of the explorers found.
    """
    divs = page.locator("div.where-to-look-explorer")
    names = []
    folder = SCREENSHOTS / "explorers" / edition
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(divs.count()):
        div = divs.nth(i)
        name = div.get_attribute("data-explorer")
        names.append(name)
        div.scroll_into_view_if_needed()
        page.wait_for_function(
            "el => el.dataset.rendered === 'true' && el.querySelector('svg')",
            arg=div.element_handle(),
        )
        controls = div.evaluate(EXPLORER_CONTROLS_JS)
        expected = (div.get_attribute("data-controls") or "").split()
        assert len(controls) == len(expected) >= 1, (
            f"{doc}: explorer {name} shows {len(controls)} controls, its spec binds {expected}"
        )
        stem = f"{Path(doc).name}__{name}"
        div.screenshot(path=str(folder / f"{stem}__before.png"))
        for control in controls:
            element = div.locator(f'[data-explorer-control="{control["i"]}"]')
            for target in _other_values(control):
                before = div.evaluate("el => el.querySelector('svg').outerHTML")
                if control["kind"] == "select":
                    element.select_option(target)
                else:
                    element.evaluate(MOVE_RANGE_JS, target)
                try:
                    page.wait_for_function(
                        "([el, old]) => el.querySelector('svg').outerHTML !== old",
                        arg=[div.element_handle(), before],
                        timeout=5_000,
                    )
                    break
                except Exception:  # noqa: BLE001 - Playwright's TimeoutError: try the next value
                    continue
            else:
                raise AssertionError(
                    f"{doc}: moving {control['name'] or control['i']} of explorer {name} to any "
                    f"of {_other_values(control)} did not change its chart"
                )
            div.screenshot(path=str(folder / f"{stem}__after_{control['i']}.png"))
    return names


WIDGET_CONTROLS_JS = """
() => {
  const controls = Array.from(document.querySelectorAll(
      'article .jupyter-widgets input, article .jupyter-widgets select, '
      + 'article .jupyter-widgets button, article .jupyter-widgets textarea, '
      + 'article .jupyter-widgets.widget-slider, article .jupyter-widgets.widget-dropdown, '
      + 'article .jupyter-widgets.widget-text, article .jupyter-widgets.widget-checkbox'));
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const outputs = new Set(controls.map(e => e.closest('.cell_output')).filter(Boolean));
  const noted = Array.from(outputs).filter(o => {
    const note = o.querySelector('.where-to-look-static-note');
    return note && shown(note);
  });
  return {visible: controls.filter(shown).map(e => e.outerHTML.slice(0, 120)),
          outputs: outputs.size, noted: noted.length};
}
"""


def check_no_live_widget_controls(page) -> int:
    """No ipywidgets control is visible (each needs a kernel), and every output that holds one
    says how to run it live (``_ext/static/widgets-static.*``). Returns the number of outputs."""
    result = page.evaluate(WIDGET_CONTROLS_JS)
    assert not result["visible"], (
        f"ipywidgets controls visible on the static page: {result['visible'][:3]}"
    )
    assert result["noted"] == result["outputs"], (
        f"{result['outputs'] - result['noted']} widget outputs without the line that says how to "
        "run them live"
    )
    return result["outputs"]


class _IdParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)


@functools.lru_cache(maxsize=None)
def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - 127.0.0.1 only
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        err.close()
        return err.code, b""


@functools.lru_cache(maxsize=None)
def _ids(url: str) -> frozenset[str]:
    parser = _IdParser()
    parser.feed(_fetch(url)[1].decode("utf-8", "replace"))
    return frozenset(parser.ids)


def check_internal_links(page, base: str) -> int:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    internal = sorted({h for h in hrefs if h.startswith(base)})
    bad = []
    for href in internal:
        url, _, fragment = href.partition("#")
        status, _body = _fetch(url)
        if status != 200:
            bad.append(f"{href}: HTTP {status}")
        elif fragment and url.endswith(".html") and urllib.parse.unquote(fragment) not in _ids(url):
            bad.append(f"{href}: no element with id {fragment!r}")
    assert not bad, "broken internal links:\n" + "\n".join(bad)
    return len(internal)


def screenshot(page, doc: str, edition: str = "en") -> None:
    folder = SCREENSHOTS if edition == "en" else SCREENSHOTS / edition
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{doc.replace('/', '__')}.png"), full_page=True)


CHINESE_TEXT_JS = r"""
() => {
  const article = document.querySelector('article') || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll(
      'pre, code, script, style, mjx-container, .math, .cell_output, .highlight, .cell_input, '
      + 'dl.glossary > dt, #references, .citation, [role="doc-biblioentry"], table'
  ).forEach(e => e.remove());
  const paragraphs = Array.from(copy.querySelectorAll('p, li, h1, h2, h3'))
      .map(e => e.textContent.replace(/\s+/g, ' ').trim()).filter(t => t);
  const cjk = t => (t.match(/[\u3400-\u9fff]/g) || []).length;
  const words = t => (t.match(/[A-Za-z]{3,}/g) || []).length;
  return {
    cjk: cjk(copy.textContent), words: words(copy.textContent),
    english: paragraphs.filter(t => words(t) >= 8 && cjk(t) === 0).slice(0, 5),
  };
}
"""

# Each character is drawn in the page's own font stack and compared with characters that no font
# has: a missing glyph (tofu) draws the same box as those, whatever the character.
GLYPHS_JS = r"""
(chars) => {
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const target = document.querySelector('article p') || document.body;
  ctx.font = `48px ${getComputedStyle(target).fontFamily}`;
  const draw = ch => {
    ctx.clearRect(0, 0, 64, 64); ctx.fillText(ch, 4, 52);
    return Array.from(ctx.getImageData(0, 0, 64, 64).data).join(',');
  };
  const missing = new Set(['\u{10FFFD}', '\u{10FFFC}', '\uFFFF'].map(draw));
  const drawn = chars.map(draw);
  return {
    tofu: chars.filter((ch, i) => missing.has(drawn[i])),
    distinct: new Set(drawn).size,
    font: getComputedStyle(target).fontFamily,
  };
}
"""


def check_chinese(page) -> None:
    """The Chinese edition: body text in Chinese, and its glyphs rendered, not tofu."""
    text = page.evaluate(CHINESE_TEXT_JS)
    assert text["cjk"] > 0, "the Chinese page shows no Chinese text"
    assert text["cjk"] >= text["words"], f"more English words than Chinese characters: {text}"
    assert not text["english"], f"paragraphs left in English: {text['english']}"
    captions = page.locator(".bd-sidebar-primary .caption-text").all_inner_texts()
    assert captions, "the sidebar shows the parts of the book"
    untranslated = [c for c in captions if not re.search(r"[\u4e00-\u9fff]", c)]
    assert not untranslated, f"sidebar captions left in English: {untranslated}"
    chars = list("注意力查询键值多头")
    glyphs = page.evaluate(GLYPHS_JS, chars)
    assert not glyphs["tofu"], f"no font draws {glyphs['tofu']} ({glyphs['font']}): tofu boxes"
    assert glyphs["distinct"] == len(chars), f"Chinese characters all drawn alike (tofu): {glyphs}"


#: English words the Chinese interface may show: proper names (of the book, of services and of
#: the language the switch leads to), file types, and "notebook", which the Chinese text keeps.
#: Code, maths, outputs, figures, references, the glossary's English headwords and the titles of
#: pages (checked by check_chinese and tests/test_i18n.py) are not interface: not looked at.
INTERFACE_ENGLISH_ALLOWED = {
    "Binder", "Colab", "JupyterHub", "Thebe", "GitHub", "PDF", "pdf", "ipynb", "md", "English",
    "Ctrl", "Jupyter", "notebook", "Markdown", "Executable", "Book", "Project",
}  # fmt: skip

INTERFACE_TEXT_JS = r"""
(allowed) => {
  allowed = new Set(allowed);
  const content = 'article.bd-article';
  // Not interface: code, maths, outputs, figures, references, headwords, and page titles in
  // the navigation (translated in the catalogues, checked elsewhere).
  const skip = 'script, style, noscript, template, pre, code, kbd, samp, .highlight, '
      + 'mjx-container, .math, svg, canvas, .vega-embed, .cell_output, #references, .citation, '
      + '[role="doc-biblioentry"], dl.glossary > dt, nav.bd-docs-nav a, .bd-toc-nav a, '
      + '.prev-next-title, .bd-breadcrumbs a, .navbar-brand, #jb-print-docs-body h1, '
      + '#jb-print-toc a';
  // Interface inside the article: buttons, drop-down hints and summaries, heading links.
  const controls = 'button, summary, .toggle-details__summary-text, a.headerlink, '
      + '.thebe-launch-button, .copybtn';
  const found = [];
  const english = text => (text.replace(/Where to Look/g, ' ').match(/[A-Za-z]{2,}/g) || [])
      .filter(word => !allowed.has(word));
  const interfaceElement = el => !el.closest(skip)
      && (!el.closest(content) || Boolean(el.closest(controls)));
  const note = (el, what, text) => {
    if (text && english(text).length) {
      const where = el.tagName.toLowerCase() + (el.className ? '.' + String(el.className)
          .trim().split(/\s+/).slice(0, 2).join('.') : '');
      found.push(`${where} ${what}: ${text.replace(/\s+/g, ' ').trim().slice(0, 80)}`);
    }
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (el && node.textContent.trim() && interfaceElement(el)) note(el, 'text', node.textContent);
  }
  for (const el of document.body.querySelectorAll(
      '[title], [placeholder], [data-toggle-hint], [data-tooltip], [data-bs-original-title]')) {
    if (!interfaceElement(el) && !el.hasAttribute('data-toggle-hint')) continue;
    for (const name of ['title', 'placeholder', 'data-toggle-hint', 'data-tooltip',
                        'data-bs-original-title']) {
      note(el, name, el.getAttribute(name));
    }
  }
  return Array.from(new Set(found));
}
"""


def interface_english(page) -> list[str]:
    """Interface strings (text, tooltips, hints, placeholders) with English words not allowed."""
    return page.evaluate(INTERFACE_TEXT_JS, sorted(INTERFACE_ENGLISH_ALLOWED))


def check_edition_switch(page, doc: str, edition: str, base: str) -> None:
    """The switch in the header leads to this page in the other edition, and back."""
    switch = page.locator("a.edition-switch")
    assert switch.count() == 1, "a language switch on the page"
    other = "zh" if edition == "en" else "en"
    target = urllib.parse.urljoin(page.url, switch.get_attribute("href"))
    assert target == base + EDITIONS[other] + f"{doc}.html", f"the switch leads to {target}"
    status, body = _fetch(target)
    assert status == 200, f"the switch's page {target}: HTTP {status}"
    back = re.search(r'<a class="[^"]*edition-switch[^"]*" href="([^"]+)"', body.decode("utf-8"))
    assert back, f"no language switch on {target}"
    assert urllib.parse.urljoin(target, back.group(1)) == page.url.split("#")[0], (
        "the other edition's switch leads back to this page"
    )


# --------------------------------------------------------------------------------------------
# The tests


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("doc", DOCS)
def test_page(doc, edition, visit, server):
    """Every page of both editions: console and network clean, maths, images, widgets, links,
    navigation, the language switch; the Chinese edition's text and glyphs."""
    prefix = EDITIONS[edition]
    v = visit()
    page = v.open(f"{prefix}{doc}.html")
    assert page.locator("article h1").count() == 1, "a page has exactly one title"
    check_maths(page)
    n_images = check_images(page)
    n_widgets = check_widgets(page)
    check_no_live_widget_controls(page)
    check_internal_links(page, server)
    if doc in CHAPTERS:
        assert n_images > 0, "every chapter shows at least one figure"
    if (
        doc in CHAPTERS
        and "widgets" in json.loads((ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))["metadata"]
    ):
        assert n_widgets > 0, "the notebook saved widget state, so the page must show widgets"
    check_edition_switch(page, doc, edition, server)
    if edition == "zh":
        check_chinese(page)
        english = interface_english(page)
        assert not english, f"interface left in English on a Chinese page: {english[:10]}"
    screenshot(page, doc, edition)
    v.assert_clean()

    # Previous/next follow the table of contents, and clicking "next" gets there.
    i = DOCS.index(doc)
    prev_link, next_link = page.locator("a.left-prev"), page.locator("a.right-next")
    if i > 0:
        assert (
            prev_link.get_attribute("href").split("#")[0].endswith(f"{Path(DOCS[i - 1]).name}.html")
        )
    if i + 1 < len(DOCS):
        assert (
            next_link.get_attribute("href").split("#")[0].endswith(f"{Path(DOCS[i + 1]).name}.html")
        )
        next_link.click()
        page.wait_for_url(f"**/{prefix}{DOCS[i + 1]}.html")
        assert page.locator("article h1").count() == 1
    else:
        assert next_link.count() == 0


def _solutions(doc: str) -> int:
    """How many solution drop-downs (``:class: dropdown`` admonitions) the chapter has."""
    nb = json.loads((ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))
    return sum("".join(c["source"]).count("dropdown") for c in nb["cells"])


@pytest.mark.parametrize("doc", [d for d in CHAPTERS if _solutions(d)])
def test_chinese_solution_opens_with_a_chinese_hint(doc, visit):
    """A solution's drop-down on a Chinese page says 点击显示, opens on a click, then says 点击隐藏
    (sphinx-togglebutton's hint, localised by _ext/editions.py); a screenshot of the open
    solution goes to _build/screenshots/zh/solutions/."""
    v = visit()
    page = v.open(f"zh/{doc}.html")
    toggles = page.locator("article .admonition.dropdown button.toggle-button")
    assert toggles.count() == _solutions(doc), "each solution is a drop-down with its button"
    button = toggles.first
    assert button.get_attribute("data-toggle-hint") == "点击显示"
    solution = page.locator("article .admonition.dropdown").first
    solution.scroll_into_view_if_needed()
    button.click()
    page.wait_for_function(
        "el => !el.classList.contains('toggle-hidden')", arg=solution.element_handle()
    )
    assert button.get_attribute("data-toggle-hint") == "点击隐藏"
    text = solution.locator("p").first
    assert text.is_visible(), "the open solution shows its text"
    # The drop-down fades in; the screenshot waits for the text's full opacity.
    page.wait_for_function("el => getComputedStyle(el).opacity === '1'", arg=text.element_handle())
    assert not interface_english(page), "an English hint or label on the opened solution"
    folder = SCREENSHOTS / "zh" / "solutions"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{Path(doc).name}.png"))
    v.assert_clean()


def test_interface_check_sees_english(visit):
    """The interface check is not blind: on an English chapter it finds the English interface
    (the theme's "Back to top", the drop-down hint "Click to show") that a Chinese page must not
    show."""
    doc = next(d for d in CHAPTERS if _solutions(d))
    english = " ".join(interface_english(visit().open(f"{doc}.html")))
    for words in ("Back to top", "Click to show", "Print to PDF"):
        assert words in english, f"{words!r} not found by the interface check: {english[:400]}"


def test_explorer_chapters_exist():
    """EXPLORER_CHAPTERS names chapters of the book; the ones not yet in it are listed here."""
    assert EXPLORER_CHAPTERS <= set(CHAPTERS), EXPLORER_CHAPTERS - set(CHAPTERS)
    without = [d for d in CHAPTERS if d not in EXPLORER_CHAPTERS]
    print("chapters without an explorer yet:", ", ".join(without) or "none")


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("doc", CHAPTERS)
def test_chapter_explorers(doc, edition, visit):
    """Each explorer renders offline and every control changes its chart (screenshots before and
    after under _build/screenshots/explorers/); a chapter of EXPLORER_CHAPTERS must have one."""
    v = visit()
    page = v.open(f"{EDITIONS[edition]}{doc}.html")
    names = check_explorers(page, doc, edition)
    v.assert_clean()
    if doc in EXPLORER_CHAPTERS:
        assert names, f"{doc} is in EXPLORER_CHAPTERS but its page has no explorer"
    elif not names:
        pytest.skip(f"{doc} has no explorer yet (add it to EXPLORER_CHAPTERS when it has one)")


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("doc", CHAPTERS)
def test_chapter_launch_and_download(doc, edition, visit):
    """Binder, Colab and Thebe buttons for this repository, and the notebook to download."""
    org_repo, branch = _repository()
    page = visit().open(f"{EDITIONS[edition]}{doc}.html", settle=False)
    binder = page.locator(f'a[href^="https://mybinder.org/v2/gh/{org_repo}/{branch}?"]')
    assert binder.count() == 1, "a Binder launch button for the repository in _config.yml"
    assert f"{doc}.ipynb" in binder.get_attribute("href")
    colab = page.locator(
        f'a[href="https://colab.research.google.com/github/{org_repo}/blob/{branch}/{doc}.ipynb"]'
    )
    assert colab.count() == 1, "a Colab launch button"
    assert page.locator("button.btn-launch-thebe").count() == 1, "a Thebe live-code button"
    download = page.locator('a[href$=".ipynb"]:not([href^="http"])')
    assert download.count() >= 1, "a download button for the notebook"
    status, body = _fetch(urllib.parse.urljoin(page.url, download.first.get_attribute("href")))
    assert status == 200
    nb = json.loads(body)
    assert nb["nbformat"] == 4 and nb["cells"], "the download is the chapter's notebook"


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("doc", CHAPTERS)
def test_chapter_references_rendered(doc, edition, visit):
    """The chapter's reference list holds every paper it cites."""
    keys = _cited_keys(doc)
    assert keys, "every chapter cites its sources"
    page = visit().open(f"{EDITIONS[edition]}{doc}.html", settle=False)
    section = page.locator("section#references")
    assert section.count() == 1, "a References section"
    missing = [k for k in sorted(keys) if section.locator(f"#footcite-{k.lower()}").count() != 1]
    assert not missing, f"cited but not in the chapter's reference list: {missing}"


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("doc", CHAPTERS)
def test_chapter_links_to_glossary(doc, edition, visit):
    """Chapters link their key terms to the glossary ({term}`query`)."""
    page = visit().open(f"{EDITIONS[edition]}{doc}.html", settle=False)
    terms = page.locator('article a[href*="glossary.html#term-"]')
    assert terms.count() > 0, "no {term} link to the glossary in this chapter"


@pytest.mark.parametrize("edition", EDITIONS)
def test_bibliography_lists_every_entry(edition, visit):
    """The bibliography page lists every entry of references.bib, so every paper a chapter cites."""
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,\s]+),", bib, flags=re.MULTILINE)
    cited = set().union(*(_cited_keys(d) for d in CHAPTERS))
    assert cited <= set(keys), f"cited keys missing from references.bib: {cited - set(keys)}"
    page = visit().open(f"{EDITIONS[edition]}bibliography.html")
    entries = page.locator("article .citation, article [role='doc-biblioentry']")
    assert entries.count() == len(keys)


@pytest.mark.parametrize("edition", EDITIONS)
def test_glossary_terms_link_chapters(edition, visit):
    """Each glossary entry shows both names, English and Chinese, in both editions, and links
    the chapter that teaches it."""
    page = visit().open(f"{EDITIONS[edition]}glossary.html")
    terms = page.locator("article dl.glossary > dt")
    assert terms.count() >= 35
    assert all(re.search(r"[A-Za-z]", t) for t in terms.all_inner_texts()), "English headwords"
    definitions = page.locator("article dl.glossary > dd")
    texts = definitions.all_inner_texts()
    assert all(re.search(r"[\u4e00-\u9fff]", t) or t.startswith(("SimAM", "Gumbel")) for t in texts)
    if edition == "en":
        assert all("Chapter" in t for t in texts), "each entry names the chapter that teaches it"
    linked = definitions.evaluate_all(
        "els => els.map(e => Boolean(e.querySelector('a[href*=\"chapters/\"]')))"
    )
    assert all(linked), "each entry links the chapter that teaches it"


@pytest.mark.parametrize(("edition", "query"), [("en", "attention"), ("zh", "注意力")])
def test_search_finds_chapters(edition, query, visit):
    """The search page, with Sphinx's search index, returns chapters. The Chinese index is made
    of words that jieba split from the sentences, so a word is found inside a sentence."""
    v = visit()
    page = v.open(f"{EDITIONS[edition]}search.html?q={urllib.parse.quote(query)}")
    results = page.locator("#search-results ul.search li a")
    results.first.wait_for()
    page.wait_for_function(
        "() => document.querySelector('#search-results') && "
        "!document.querySelector('#search-progress')?.textContent.includes('Preparing')"
    )
    hrefs = results.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert any("chapters/" in h for h in hrefs), f"no chapter among the results: {hrefs}"
    screenshot(page, "search", edition)
    v.assert_clean()


# --------------------------------------------------------------------------------------------
# Open in Colab: the first code cell of every chapter installs attention_utils there, and only there


def _colab_cell_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("colab_cell", ROOT / "_ext" / "colab_cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chapters_start_with_colab_cell():
    """Every chapter's first code cell is the Colab cell of _ext/colab_cell.py.

    (Run ``python _ext/colab_cell.py`` to write it into the chapters.)
    """
    colab = _colab_cell_module()
    expected = colab.cell_source()
    url, branch = colab.repository()
    assert f"git+{url}@{branch}" in expected, "the cell installs from the repository in _config.yml"
    wrong = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        cell = colab.first_code_cell(json.loads(path.read_text(encoding="utf-8")))
        if cell is None or colab._source(cell) != expected or cell.get("outputs"):
            wrong.append(path.name)
    assert not wrong, (
        f"these chapters do not start with the Colab cell (run `python _ext/colab_cell.py`, then "
        f"re-execute them): {wrong}\nThe cell:\n{expected}"
    )


def test_colab_cell_installs_only_on_colab(monkeypatch):
    """Run the cell's code: nothing happens here; on Colab without the package, pip installs it."""
    import importlib.util
    import subprocess as subprocess_module
    import types

    colab = _colab_cell_module()
    source = colab.cell_source()
    calls = []
    monkeypatch.setattr(subprocess_module, "run", lambda *a, **k: calls.append((a, k)))

    exec(compile(source, "<colab cell>", "exec"), {})  # here: attention_utils importable, not Colab
    assert calls == [], "outside Colab the cell does nothing"

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(source, "<colab cell>", "exec"), {})  # Colab, but the package is importable
    assert calls == [], "on Colab with attention_utils already importable the cell does nothing"

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "attention_utils" else real_find_spec(name, *a),
    )
    exec(compile(source, "<colab cell>", "exec"), {})  # Colab, package missing
    assert len(calls) == 1
    (argv,), kwargs = calls[0]
    url, branch = colab.repository()
    assert (
        argv[:4] == [sys.executable, "-m", "pip", "install"]
        and argv[-1] == f"attention-utils @ git+{url}@{branch}"
    )
    assert kwargs == {"check": True}


# --------------------------------------------------------------------------------------------
# _ext/local_assets.py without npm: CDN fall-back with a message, or an error when required


def test_local_assets_fall_back_without_npm(tmp_path, monkeypatch):
    import importlib.util
    import types

    spec = importlib.util.spec_from_file_location("local_assets", ROOT / "_ext" / "local_assets.py")
    local_assets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(local_assets)
    (tmp_path / "package-lock.json").write_text("{}", encoding="utf-8")  # no node_modules beside it
    monkeypatch.setattr(local_assets.shutil, "which", lambda name: None)

    def configure():
        app = types.SimpleNamespace(confdir=str(tmp_path))
        config = types.SimpleNamespace(
            mathjax_path="https://cdn/mathjax.js",
            nb_ipywidgets_js={"https://cdn/x": {}},
            html_static_path=[],
        )
        local_assets.configure(app, config)
        return app, config

    monkeypatch.setenv(local_assets.ENV_VAR, "auto")
    app, config = configure()
    assert app.local_assets_served is False
    assert config.mathjax_path == "https://cdn/mathjax.js" and config.nb_ipywidgets_js == {
        "https://cdn/x": {}
    }

    monkeypatch.setenv(local_assets.ENV_VAR, "require")
    with pytest.raises(local_assets.ExtensionError, match="npm was not found"):
        configure()

    # Without npm the explorers load the versions package.json pins, from the CDN.
    bundles = local_assets._cdn_bundles(ROOT)
    pins = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]
    assert bundles == {
        name: f"https://cdn.jsdelivr.net/npm/{name}@{pins[name]}/build/{name}.min.js"
        for name in ("vega", "vega-lite", "vega-embed")
    }


def test_built_site_serves_its_own_javascript(site):
    """The built pages name local MathJax, require.js and widget manager, and the files exist."""
    # A chapter that shows widgets: only such a page loads require.js and the widget manager.
    with_widgets = next(
        d
        for d in CHAPTERS
        if "widgets" in json.loads((ROOT / f"{d}.ipynb").read_text(encoding="utf-8"))["metadata"]
    )
    chapter = (site / f"{with_widgets}.html").read_text(encoding="utf-8")
    for asset in (
        "_static/mathjax/tex-mml-chtml.js",
        "_static/requirejs/require.js",
        "_static/jupyter-widgets/embed-amd.js",
        "_static/explorers.js",
    ):
        assert f'src="../{asset}' in chapter, (
            f"{asset} is not what the page loads (built without npm?)"
        )
        assert (site / asset).is_file()
    assert not re.search(r'<script[^>]+src="https?://', chapter), "no script from another host"
    for bundle in ("vega", "vega-lite", "vega-embed"):
        assert (site / "_static" / "vega" / f"{bundle}.min.js").is_file(), f"{bundle} is served"
        assert (site / "zh" / "_static" / "vega" / f"{bundle}.min.js").is_file()
