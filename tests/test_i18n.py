"""The Chinese edition's catalogues are complete, current and keep the English markup intact.

``locale/zh_CN/LC_MESSAGES/**/*.po`` hold the Chinese text of every page (``_ext/editions.py``).
These tests regenerate the message templates from the sources as they are now, so an English
sentence changed without its translation fails here, naming the page and the sentence:

- every message of every page has a translation, none is fuzzy, and no catalogue keeps a
  message that the sources no longer have (obsolete);
- a translation keeps what must not be translated: maths, inline code and the targets of MyST
  roles (``{term}``, ``{doc}``, ``{footcite:p}``, ...), each as many times as the English;
- a sentence of English prose is translated into Chinese, not left in English;
- a term of the glossary has one Chinese name everywhere: the glossary gives each entry's
  preferred Chinese term and, after "also", the other names a reader may meet (``汇聚 (also
  池化)``); a translation that writes one of those aliases, outside quotation marks, fails.

README, "Translating", gives the three commands that bring the catalogues up to date.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

babel_pofile = pytest.importorskip("babel.messages.pofile")

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale" / "zh_CN" / "LC_MESSAGES"
PAGES = sorted(p.relative_to(LOCALE).with_suffix("").as_posix() for p in LOCALE.rglob("*.po"))

ROLE = re.compile(r"\{(?P<name>[\w:+-]+)\}`(?P<body>[^`]*)`")
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$")
CODE = re.compile(r"(?<![`}])``?(?!`)([^`]+?)``?(?!`)")
CJK = re.compile(r"[\u3400-\u9fff]")
WORD = re.compile(r"[A-Za-z]{3,}")


def role_target(name: str, body: str) -> str:
    """What a role points at: the part in ``<...>`` when the display text is given."""
    explicit = re.search(r"<([^<>]+)>\s*$", body)
    return (explicit.group(1) if explicit else body).strip()


def markup(text: str) -> Counter:
    """Everything a translation must keep: role targets, maths and inline code, with counts."""
    items: Counter = Counter()
    for match in ROLE.finditer(text):
        items[("role", match["name"], role_target(match["name"], match["body"]))] += 1
    text = ROLE.sub(" ", text)
    for match in DISPLAY_MATH.finditer(text):
        items[("math", match[1].strip())] += 1
    text = DISPLAY_MATH.sub(" ", text)
    for match in INLINE_MATH.finditer(text):
        items[("math", match[1].strip())] += 1
    text = INLINE_MATH.sub(" ", text)
    for match in CODE.finditer(text):
        items[("code", match[1].strip())] += 1
    return items


def prose_words(text: str) -> int:
    """English words outside roles, maths, code and links: how much prose a message has.

    A display-maths block is its own message, without its ``$$``: TeX control words
    (``\\mathbf``, ``\\operatorname``), with their arguments (``\\mathrm{factor}``), are not prose.
    """
    text = ROLE.sub(" ", text)
    text = DISPLAY_MATH.sub(" ", text)
    text = INLINE_MATH.sub(" ", text)
    text = CODE.sub(" ", text)
    text = re.sub(r"\]\([^)]*\)|https?://\S+", " ", text)
    text = re.sub(r"\\[A-Za-z]+\{[^{}]*\}|\\[A-Za-z]+", " ", text)
    return len(WORD.findall(text))


def is_display_maths(text: str) -> bool:
    """A ``$$...$$`` block is a message of its own, without the dollars: TeX outside ``$``."""
    for pattern in (ROLE, DISPLAY_MATH, INLINE_MATH, CODE):
        text = pattern.sub(" ", text)
    return re.search(r"\\[A-Za-z]+", text) is not None


def markup_problems(msgid: str, msgstr: str) -> list[str]:
    """Why a translation breaks the markup of its English message (empty when it does not)."""
    if is_display_maths(msgid) and msgstr != msgid:
        # Any change, even a TeX comment, makes MyST render the block as an empty "\\[::\\]".
        return ["a display formula is translated as itself, character for character"]
    problems = []
    wanted, got = markup(msgid), markup(msgstr)
    for item in (wanted - got) + (got - wanted):
        kind = {"role": "role", "math": "maths", "code": "inline code"}[item[0]]
        problems.append(
            f"{kind} {item[1:]!r}: {wanted[item]} in the English, {got[item]} in the translation"
        )
    return problems


def glossary_headwords() -> set[str]:
    """The glossary's entries: they keep their English name in the Chinese edition too.

    Chapters link to them by that name ({term}`查询 <query>`), and each definition begins with
    the Chinese name, so the Chinese glossary shows both.
    """
    text = (ROOT / "glossary.md").read_text(encoding="utf-8")
    block = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    return {line.strip() for line in block.splitlines() if line.strip() and not line[0].isspace()}


#: The start of a glossary definition: the Chinese name, then in brackets either a note
#: ("(ARM)", "(核函数)") or, after "also", the aliases: "汇聚 (also 池化). Summarising ...".
CHINESE_NAME = re.compile(r"^(?P<name>[^(.]+?)\s*(?:\((?P<note>[^()]*)\))?\.(?:\s|$)")
#: An alias in quotation marks is named, not used: 汇聚（又称“池化”）.
QUOTED = re.compile(r"“[^“”]*”|「[^「」]*」|‘[^‘’]*’")
#: Words that hold an alias but mean something else: 部分数据 ("part of the data") holds 分数.
NOT_AN_ALIAS = ("部分数",)


def glossary_entries() -> list[tuple[list[str], str]]:
    """Each glossary entry: its headwords and the first line of its definition."""
    text = (ROOT / "glossary.md").read_text(encoding="utf-8")
    block = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    entries: list[tuple[list[str], str]] = []
    heads: list[str] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            heads.append(line.strip())
        elif heads:
            entries.append((heads, line.strip()))
            heads = []
    return entries


def chinese_terms() -> dict[str, tuple[str, list[str]]]:
    """Headword -> (the preferred Chinese term, its aliases), from glossary.md."""
    terms = {}
    for heads, first in glossary_entries():
        match = CHINESE_NAME.match(first)
        assert match, f"glossary entry {heads[0]!r} does not begin with its Chinese name: {first!r}"
        note = match["note"] or ""
        aliases = [a.strip() for a in note[5:].split(",")] if note.startswith("also ") else []
        terms[heads[0]] = (match["name"].strip(), [a for a in aliases if a])
    return terms


def term_drift(text: str, terms: dict[str, tuple[str, list[str]]]) -> list[str]:
    """The aliases a translation uses where the glossary prefers another Chinese term.

    Quoted aliases, code, maths and role targets are left out, and so is an alias inside a
    preferred term (代码单元格, "cell", holds 代码单元) or inside ``NOT_AN_ALIAS``.
    """
    text = ROLE.sub(lambda m: re.sub(r"<[^<>]*>\s*$", "", m["body"]), text)
    for pattern in (QUOTED, DISPLAY_MATH, INLINE_MATH, CODE):
        text = pattern.sub(" ", text)
    keep = [name for name, _ in terms.values()] + list(NOT_AN_ALIAS)
    for word in sorted(keep, key=len, reverse=True):
        text = text.replace(word, "\0")
    found = []
    aliases = [(a, head, name) for head, (name, alist) in terms.items() for a in alist]
    for alias, head, name in sorted(aliases, key=lambda item: -len(item[0])):
        if alias in text:
            found.append(f"{alias} -> {name} ({head})")
            text = text.replace(alias, "\0")
    return found


def read(path: Path):
    with path.open("rb") as handle:
        return babel_pofile.read_po(handle, abort_invalid=True)


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Path:
    """The message templates regenerated from the current sources (no notebook is executed)."""
    out = tmp_path_factory.mktemp("gettext")
    result = subprocess.run(
        [sys.executable, str(ROOT / "_ext" / "editions.py"), "templates", "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def test_every_page_of_the_book_has_a_catalogue(templates):
    pages = sorted(
        p.relative_to(templates).with_suffix("").as_posix() for p in templates.rglob("*.pot")
    )
    assert pages, "the gettext build wrote no templates"
    missing = sorted(set(pages) - set(PAGES))
    extra = sorted(set(PAGES) - set(pages))
    assert not missing, f"pages without a Chinese catalogue (run sphinx-intl update): {missing}"
    assert not extra, f"catalogues for pages the book no longer has: {extra}"


@pytest.mark.parametrize("page", PAGES)
def test_catalogue_is_complete_and_current(page, templates):
    template, catalogue = read(templates / f"{page}.pot"), read(LOCALE / f"{page}.po")
    wanted = {message.id for message in template if message.id}
    have = {message.id: message for message in catalogue if message.id}
    untranslated = [m for m in wanted if m not in have or not have[m].string]
    fuzzy = [m for m in wanted if m in have and have[m].fuzzy]
    stale = sorted(set(have) - wanted) + [m.id for m in catalogue.obsolete.values()]
    report = []
    for label, messages in [("untranslated", untranslated), ("fuzzy", fuzzy), ("obsolete", stale)]:
        if messages:
            report.append(f"{len(messages)} {label}, e.g. {messages[0][:160]!r}")
    assert not report, f"{page}.po: " + "; ".join(report) + " (README, 'Translating')"


@pytest.mark.parametrize("page", PAGES)
def test_translations_keep_the_markup(page):
    problems = []
    for message in read(LOCALE / f"{page}.po"):
        if message.id and message.string:
            for problem in markup_problems(message.id, message.string):
                problems.append(f"{message.id[:70]!r}: {problem}")
    assert not problems, f"{page}.po:\n" + "\n".join(problems[:20])


@pytest.mark.parametrize("page", PAGES)
def test_prose_is_translated_into_chinese(page):
    keep = glossary_headwords() if page == "glossary" else set()
    left_in_english = [
        message.id[:100]
        for message in read(LOCALE / f"{page}.po")
        if message.id
        and message.string
        and message.id not in keep
        and prose_words(message.id) >= 4
        and not CJK.search(message.string)
    ]
    assert not left_in_english, f"{page}.po: English prose left untranslated: {left_in_english[:5]}"


def test_glossary_gives_each_term_one_chinese_name():
    """Every glossary entry begins with its Chinese name; no alias is another entry's name."""
    terms = chinese_terms()
    assert len(terms) == len(glossary_entries()) >= 35
    names = {name for name, _ in terms.values()}
    for head, (name, aliases) in terms.items():
        assert CJK.search(name) or name.isascii(), f"{head}: {name!r}"
        clash = [a for a in aliases if a in names or a == name]
        assert not clash, f"{head}: an alias is also a preferred term: {clash}"
    assert terms["pooling"] == ("汇聚", ["池化"])
    assert terms["layer normalisation"] == ("层规范化", ["层归一化"])


@pytest.mark.parametrize("page", PAGES)
def test_translations_use_the_glossary_terms(page):
    """A glossary term is written with its preferred Chinese name, never an alias (outside
    quotation marks); the glossary's "also" names the aliases (README, "Translating")."""
    terms = chinese_terms()
    drift = []
    for message in read(LOCALE / f"{page}.po"):
        if message.id and message.string:
            for problem in term_drift(message.string, terms):
                drift.append(f"{problem}: {message.string[:80]!r}")
    assert not drift, f"{page}.po uses an alias of a glossary term:\n" + "\n".join(drift[:20])


def test_term_check_catches_a_drift():
    """The term check fails on an alias, and passes a quoted alias or an alias in a longer term."""
    terms = {
        "pooling": ("汇聚", ["池化"]),
        "cell": ("单元格", ["代码单元"]),
        "score": ("评分", ["分数", "得分"]),
        "score function": ("得分函数", []),
    }
    assert term_drift("注意力汇聚（又称“注意力池化”）", terms) == []
    assert term_drift("下面的代码单元格打印评分；得分函数估计量；部分数据", terms) == []
    assert term_drift("{term}`二阶汇聚 <second-order pooling>`，`nn.MaxPool2d`", terms) == []
    assert term_drift("全局平均池化", terms) == ["池化 -> 汇聚 (pooling)"]
    assert term_drift("下面的代码单元打印分数", terms) == [
        "代码单元 -> 单元格 (cell)",
        "分数 -> 评分 (score)",
    ]
    assert term_drift("{term}`池化 <pooling>`", terms) == ["池化 -> 汇聚 (pooling)"]


def test_markup_check_catches_a_broken_translation():
    """The checks above can fail: a lost maths span, a renamed term and a dropped citation."""
    msgid = "The {term}`query` scores a key by $q^\\top k$ {footcite:p}`Bahdanau2015`, `softmax`."
    good = "{term}`查询 <query>` 用 $q^\\top k$ 为键评分 {footcite:p}`Bahdanau2015`，`softmax`。"
    assert markup_problems(msgid, good) == []
    assert markup_problems(msgid, good.replace("$q^\\top k$", "q·k"))
    assert markup_problems(msgid, good.replace("<query>", "<查询>"))
    assert markup_problems(msgid, good.replace(" {footcite:p}`Bahdanau2015`", ""))
    formula = "a(\\mathbf{q}, \\mathbf{k}) = \\mathbf{q}^\\top \\mathbf{k} / \\sqrt{d}."
    assert is_display_maths(formula) and not is_display_maths(msgid)
    assert markup_problems(formula, formula) == []
    assert markup_problems(formula, "% 缩放点积\n" + formula)
    assert prose_words("The query scores each key by a dot product.") >= 4
    assert prose_words("$\\alpha(\\mathbf q, \\mathbf k_i)$, `show_heatmaps`") == 0
    assert (
        prose_words(
            "a(\\mathbf{q}, \\mathbf{k}) = \\operatorname{softmax}(\\mathbf{q}^\\top \\mathbf{k})"
        )
        == 0
    )


def _editions():
    """``_ext/editions.py``, loaded as a module (``_ext`` is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("editions", ROOT / "_ext" / "editions.py")
    editions = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(editions)
    return editions


def test_language_switch_links_the_same_page():
    """The switch's relative link, from each edition to the other, at any depth."""
    editions = _editions()
    assert editions.other_edition("intro", chinese=False)["href"] == "zh/intro.html"
    assert editions.other_edition("intro", chinese=True)["href"] == "../intro.html"
    to_zh = editions.other_edition("chapters/07_transformer", chinese=False)
    assert to_zh["href"] == "../zh/chapters/07_transformer.html" and to_zh["label"] == "中文"
    to_en = editions.other_edition("chapters/07_transformer", chinese=True)
    assert to_en["href"] == "../../chapters/07_transformer.html" and to_en["label"] == "English"
    assert editions.is_chinese("zh_CN") and editions.is_chinese("zh-CN")
    assert not editions.is_chinese("en") and not editions.is_chinese(None)


def test_english_build_drops_the_cached_outputs_of_what_it_reads(tmp_path):
    """Cache mode never shows stale outputs: the notebooks a build re-reads lose their record."""
    import types

    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    editions = _editions()
    cache = get_cache(tmp_path / "cache")
    paths = {}
    for name in ("a", "b"):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"x = '{name}'")])
        paths[name] = tmp_path / f"{name}.ipynb"
        nbformat.write(notebook, paths[name])
        cache.cache_notebook_bundle(CacheBundleIn(notebook, str(paths[name])), check_validity=False)
    env = types.SimpleNamespace(
        mystnb_config=types.SimpleNamespace(execution_cache_path=str(tmp_path / "cache")),
        doc2path=lambda docname: paths[docname],
    )

    def app(language):
        config = types.SimpleNamespace(language=language)
        return types.SimpleNamespace(config=config, builder=types.SimpleNamespace(name="html"))

    editions.drop_stale_executions(app("zh_CN"), env, ["a"])  # the Chinese run keeps them
    assert len(cache.list_cache_records()) == 2
    editions.drop_stale_executions(app("en"), env, ["a"])
    assert [Path(r.uri).name for r in cache.list_cache_records()] == ["b.ipynb"]
