"""Two editions of the book from one set of notebooks: English and Chinese (中文).

The Chinese edition is not a second book. It is the same notebooks, the same ``attention_utils``
and the same execution, rendered with Sphinx's gettext catalogues
(``locale/zh_CN/LC_MESSAGES/**/*.po``): every Markdown cell, heading and page of the table of
contents has its Chinese text there, while code, maths, outputs and figures are shared.

As a Sphinx extension (``sphinx.local_extensions`` in ``_config.yml``) this module

1. makes every build of an English page that is executed (the landing page; the chapters show
   their committed outputs, proven by nbval: ``_config.yml``) execute it afresh: it runs through
   MyST-NB's ``cache`` mode, and the cache record of each notebook Sphinx is about to read is
   dropped first (``env-before-read-docs``), so nothing stale is shown;
2. after a successful English HTML build (``build-finished``), builds the Chinese edition in a
   separate process, which takes the notebooks' outputs from that same cache (nothing runs twice:
   every number and figure is identical in both editions) and lands at ``_build/html/zh/``, with
   the English build's ``-W``, ``-n`` and ``--keep-going``. ``WHERE_TO_LOOK_EDITIONS=en`` skips it
   (a quicker build while writing);
3. puts a language switch (English ↔ 中文) in every page's header, linking to the same page in
   the other edition;
4. gives the Chinese edition a Chinese interface: the theme's buttons, tooltips and labels
   (``INTERFACE_ZH``), the hints of the solutions' drop-downs (sphinx-togglebutton) and
   MyST-NB's labels of hidden cells.

As a script it is the translator's tool (README, "Translating"):

``python _ext/editions.py templates``
    regenerates the message templates (``_build/gettext/**/*.pot``) from the current sources,
    without executing anything; ``sphinx-intl update -p _build/gettext -l zh_CN`` then merges
    them into the catalogues.
``python _ext/editions.py zh [-W] [-n] [--keep-going]``
    builds the Chinese edition alone (what step 2 runs).
"""

from __future__ import annotations

import argparse
import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
TEMPLATES = Path(__file__).resolve().parent / "templates"

#: The catalogues' language, its URL prefix under the English site and its switch's label.
ZH = "zh_CN"
ZH_PREFIX = "zh"
ENV_VAR = "WHERE_TO_LOOK_EDITIONS"

#: Where the Chinese edition is built before it is copied under ``_build/html/``: MyST-NB writes
#: executed notebooks beside a build's HTML folder, which must not land inside the English site.
ZH_BUILD = BUILD / "zh"
#: The English build's notebook outputs, which the Chinese build reuses.
JUPYTER_CACHE = BUILD / ".jupyter_cache"


#: The interface's words in the Chinese edition, per gettext catalogue: English -> Chinese.
#: "sphinx" serves the PyData theme's templates (it has no Chinese) and Sphinx's own labels;
#: "booktheme" serves the book theme's buttons, whose Chinese catalogue lacks "Live Code" and
#: "Launch on" and says 列印成 PDF (Taiwan usage) for "Print to PDF". These win over the
#: packages' own catalogues (``localise_interface``); tests/test_site.py fails on any interface
#: word left in English on a Chinese page.
INTERFACE_ZH: dict[str, dict[str, str]] = {
    "sphinx": {
        "Back to top": "回到顶部",
        "Skip to main content": "跳到正文",
        "Click to expand": "点击展开",
        "Click to collapse": "点击折叠",
        "Please activate JavaScript to enable the search functionality.": (
            "请启用 JavaScript 以使用搜索功能。"
        ),
        "Breadcrumb": "导航路径",
        "Home": "首页",
        "Edit on %(provider)s": "在 %(provider)s 上编辑",
        "Edit": "编辑",
        "Indices": "索引",
        "On this page": "本页内容",
        "previous page": "上一页",
        "next page": "下一页",
        "Section Navigation": "本节导航",
        "Site navigation": "全书导航",
        "light/dark": "浅色/深色",
        "Version warning": "版本提示",
        "Announcement": "公告",
        "© Copyright %(copyright)s.": "© 版权所有 %(copyright)s。",
        '© <a href="%(path)s">Copyright</a> %(copyright)s.': (
            '© <a href="%(path)s">版权所有</a> %(copyright)s。'
        ),
        "Link to this heading": "链接到此标题",
        "Permalink to this heading": "链接到此标题",
        "Link to this definition": "链接到此定义",
        "Link to this equation": "链接到此公式",
        "Link to this image": "链接到此图",
        "Link to this table": "链接到此表",
        "Link to this code": "链接到此代码",
        "Link to this term": "链接到此术语",
    },
    "booktheme": {
        "Print to PDF": "打印为 PDF",
        "Live Code": "在线运行",
        "Launch Thebe": "在本页运行代码（Thebe）",
        # The theme writes translation("Launch on") + " Binder": "启动于 Binder".
        "Launch on": "启动于",
        "Launch interactive content": "在线运行本章",
        "Repository": "仓库",
        "Source repository": "源代码仓库",
        "Source repositories": "源代码仓库",
        "Show source": "显示源文件",
        "Suggest edit": "提出修改建议",
        "Open issue": "报告问题",
        "Open an issue": "报告问题",
        "Search": "搜索",
        "Search this book...": "搜索本书……",
        "Toggle navigation": "显示或隐藏导航栏",
        # _ext/templates/toggle-*-sidebar.html: the theme's own templates leave these in English.
        "Toggle primary sidebar": "显示或隐藏侧边栏",
        "Toggle secondary sidebar": "显示或隐藏本页目录",
        "Download this page": "下载本页",
        "Download source file": "下载源文件",
        "Download notebook file": "下载 notebook 文件",
        "Fullscreen mode": "全屏模式",
    },
}
#: The authors, as the footer of the Chinese edition names them.
AUTHOR_ZH = "Where to Look 的作者们"
#: sphinx-togglebutton's hint beside each solution's drop-down ("Click to show" / "Click to hide").
TOGGLE_HINTS_ZH = ("点击显示", "点击隐藏")


class _Interface(gettext.NullTranslations):
    """A catalogue's translations with ``messages`` put first; the rest from ``fallback``."""

    def __init__(self, messages: dict[str, str], fallback=None):
        super().__init__()
        self.messages = messages
        if fallback is not None:
            self.add_fallback(fallback)

    def gettext(self, message):
        return self.messages.get(message) or super().gettext(message)


def localise_interface(app, config) -> None:
    """Chinese edition: ``INTERFACE_ZH`` before the packages' own catalogues, and the toggle
    hints. Runs at config-inited before sphinx-togglebutton writes its hints into the page
    (priority 400 < 500) and before the builder loads its templates with ``app.translator``."""
    if not is_chinese(config.language):
        return
    from sphinx import locale

    for catalog, messages in INTERFACE_ZH.items():
        key = ("general", catalog)
        locale.translators[key] = _Interface(messages, locale.translators.get(key))
    app.translator = locale.translators[("general", "sphinx")]
    config.togglebutton_hint, config.togglebutton_hint_hide = TOGGLE_HINTS_ZH


def is_chinese(language: str | None) -> bool:
    return bool(language) and language.replace("-", "_").lower().startswith("zh")


# ------------------------------------------------------------------------------------------------
# The Sphinx extension
# ------------------------------------------------------------------------------------------------


def configure(app, config) -> None:
    """Add the switch to the article header; in the Chinese edition, Chinese labels.

    Our templates come first: besides the switch they replace two of the book theme's buttons
    whose tooltips it does not translate (``toggle-*-sidebar.html``)."""
    config.templates_path = [str(TEMPLATES), *config.templates_path]
    static = str(Path(__file__).resolve().parent / "static")
    if static not in config.html_static_path:
        config.html_static_path = [*config.html_static_path, static]
    options = dict(config.html_theme_options or {})
    header_end = options.get("article_header_end", ["article-header-buttons.html"])
    if isinstance(header_end, str):
        header_end = [item.strip() for item in header_end.split(",") if item.strip()]
    if "edition-switch.html" not in header_end:
        options["article_header_end"] = ["edition-switch.html", *header_end]
    if is_chinese(config.language):
        options["search_bar_text"] = "搜索本书……"
        # MyST-NB's labels for hidden cells ("Show code cell source", ...) are not in its
        # catalogues; {type} would stay English, so the Chinese labels leave it out.
        config.nb_code_prompt_show = "显示代码单元格"
        config.nb_code_prompt_hide = "隐藏代码单元格"
        # The footer's "By ..." (作者：...).
        config.author = AUTHOR_ZH
    config.html_theme_options = options


def add_fonts(app) -> None:
    if app.builder.format == "html" and is_chinese(app.config.language):
        app.add_css_file("zh.css")


def drop_stale_executions(app, env, docnames) -> None:
    """English edition: forget the cached outputs of every notebook about to be re-read."""
    if is_chinese(app.config.language) or app.builder.name != "html":
        return
    from jupyter_cache import get_cache

    cache = get_cache(env.mystnb_config.execution_cache_path)
    about_to_read = {str(Path(env.doc2path(name)).resolve()) for name in docnames}
    for record in cache.list_cache_records():
        if str(Path(record.uri).resolve()) in about_to_read:
            cache.remove_cache(record.pk)


def translate_toc_captions(app, doctree) -> None:
    """Chinese edition: the parts' captions in the sidebar ("Part I: ...") in Chinese.

    sphinx-external-toc inserts the toctrees after Sphinx's translation transform has run, so
    their captions, although extracted into the root page's catalogue, are not translated there.
    This runs before the toctree collector copies them (doctree-read, priority 400 < 500).
    """
    if not is_chinese(app.config.language):
        return
    from sphinx import addnodes
    from sphinx.locale import init as init_locale
    from sphinx.util.i18n import docname_to_domain

    toctrees = [node for node in doctree.findall(addnodes.toctree) if node.get("caption")]
    if not toctrees:
        return
    domain = docname_to_domain(app.env.docname, app.config.gettext_compact)
    dirs = [str(Path(app.srcdir, folder)) for folder in app.config.locale_dirs]
    catalog, _ = init_locale(dirs, app.config.language, domain)
    for node in toctrees:
        node["caption"] = catalog.gettext(node["caption"])


def other_edition(pagename: str, chinese: bool) -> dict:
    """The relative link from ``pagename`` in one edition to the same page in the other."""
    depth = pagename.count("/")
    if chinese:
        href = "../" * (depth + 1) + pagename + ".html"
        return {
            "href": href,
            "label": "English",
            "hreflang": "en",
            "title": "阅读本页的英文版",
        }
    href = "../" * depth + f"{ZH_PREFIX}/{pagename}.html"
    return {"href": href, "label": "中文", "hreflang": "zh-CN", "title": "阅读本页的中文版"}


def page_context(app, pagename, templatename, context, doctree) -> None:
    context["edition_switch"] = other_edition(pagename, is_chinese(app.config.language))


def build_chinese_edition(app, exception) -> None:
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    if exception is not None or app.builder.name != "html" or is_chinese(app.config.language):
        return
    if os.environ.get(ENV_VAR, "").strip().lower() == "en":
        logging.getLogger(__name__).info(f"{ENV_VAR}=en: the Chinese edition is not built")
        return
    command = [sys.executable, str(Path(__file__).resolve()), "zh"]
    # Sphinx 7 runs "-W --keep-going" as keep_going=True with warningiserror=False.
    if app.warningiserror or app.keep_going:
        command.append("-W")
    if app.keep_going:
        command.append("--keep-going")
    if app.config.nitpicky:
        command.append("-n")
    logging.getLogger(__name__).info("building the Chinese edition: " + " ".join(command[1:]))
    if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
        raise ExtensionError("the Chinese edition (_build/html/zh/) failed to build: see above")


def setup(app) -> dict:
    app.connect("config-inited", configure)
    app.connect("config-inited", localise_interface, priority=400)
    app.connect("builder-inited", add_fonts)
    app.connect("env-before-read-docs", drop_stale_executions)
    app.connect("doctree-read", translate_toc_captions, priority=400)
    app.connect("html-page-context", page_context)
    app.connect("build-finished", build_chinese_edition)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}


# ------------------------------------------------------------------------------------------------
# The command line
# ------------------------------------------------------------------------------------------------


def _build(builder: str, outputdir: Path, overrides: dict, args, doctreedir=None) -> int:
    from jupyter_book.sphinx import build_sphinx

    overrides = {
        "external_toc_path": (ROOT / "_toc.yml").as_posix(),
        "latex_individualpages": False,
        **overrides,
    }
    if args.nitpick:
        overrides["nitpicky"] = True
    result = build_sphinx(
        ROOT,
        outputdir,
        noconfig=True,
        path_config=str(ROOT / "_config.yml"),
        confoverrides=overrides,
        builder=builder,
        doctreedir=doctreedir,
        warningiserror=args.W,
        keep_going=args.keep_going,
    )
    if isinstance(result, Exception):
        print(f"{builder} build failed: {result!r}", file=sys.stderr)
        return 1
    return int(result)


def templates(args) -> int:
    """Write ``_build/gettext/**/*.pot`` from the sources as they are (no execution)."""
    out = Path(args.output) if args.output else BUILD / "gettext"
    # Its own doctrees, from scratch: an HTML build's next to it would not fit this builder.
    doctrees = out.parent / f"{out.name}-doctrees"
    for folder in (out, doctrees):
        shutil.rmtree(folder, ignore_errors=True)
    return _build("gettext", out, {"nb_execution_mode": "off"}, args, doctreedir=doctrees)


def chinese(args) -> int:
    """Build the Chinese edition into ``_build/zh/html``, then copy it to ``_build/html/zh``."""
    html = ZH_BUILD / "html"
    status = _build(
        "html",
        html,
        {
            "language": ZH,
            "nb_execution_mode": "cache",
            "nb_execution_cache_path": str(JUPYTER_CACHE),
        },
        args,
    )
    if status == 0:
        target = BUILD / "html" / ZH_PREFIX
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(html, target)
        print(f"Chinese edition: {target.relative_to(ROOT)}/index.html")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_ in [
        ("templates", "regenerate the message templates _build/gettext/**/*.pot"),
        ("zh", "build the Chinese edition into _build/html/zh/"),
    ]:
        command = commands.add_parser(name, help=help_)
        command.add_argument("-W", action="store_true", help="warnings are errors")
        command.add_argument("-n", "--nitpick", action="store_true", help="nit-picky mode")
        command.add_argument(
            "--keep-going", action="store_true", help="with -W, report all warnings"
        )
        if name == "templates":
            command.add_argument(
                "--output", help="folder for the templates (default _build/gettext)"
            )
    args = parser.parse_args(argv)
    return {"templates": templates, "zh": chinese}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
