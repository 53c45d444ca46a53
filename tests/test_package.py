"""The package's public names: one explicit list, the modules' lists, the chapters' names."""

import ast
import importlib
import json
import pathlib

import attention_utils

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODULES = [
    "bisenet",
    "attribution",
    "captioning",
    "checks",
    "cnn_attention",
    "cnn_spatial",
    "core",
    "criss_cross",
    "data",
    "decoding",
    "efficient",
    "encoder_decoder",
    "efficient_linear",
    "explain",
    "explorers",
    "graphs",
    "extrapolation",
    "kernel_regression",
    "kv_cache",
    "memory",
    "multihead",
    "plotting",
    "registry",
    "positions",
    "reinforce",
    "resnet",
    "scoring",
    "selective_kernel",
    "seq2seq",
    "swin",
    "training",
    "transformer",
    "transformer_decoder",
    "transformer_layers",
    "transformer_model",
    "transformer_torch",
    "vision",
    "vision_self_attention",
    "vit",
    "windows",
]


def test_every_module_of_the_package_is_listed():
    files = {
        p.stem for p in (ROOT / "attention_utils").iterdir() if p.suffix == ".py" or p.is_dir()
    }
    assert files - {"__init__", "__pycache__"} == set(MODULES)


def test_package_all_is_the_union_of_the_module_lists_with_no_name_twice():
    names = attention_utils.__all__
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    per_module = [importlib.import_module(f"attention_utils.{m}").__all__ for m in MODULES]
    union = [name for module_names in per_module for name in module_names]
    assert len(union) == len(set(union)), "two modules export the same name"
    assert set(names) == set(union)
    for module, module_names in zip(MODULES, per_module):
        module_object = importlib.import_module(f"attention_utils.{module}")
        for name in module_names:
            assert getattr(attention_utils, name) is getattr(module_object, name), name


def _names_the_chapters_use():
    """Every ``from attention_utils import ...`` name and ``au.name`` attribute in the chapters."""
    used = set()
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            lines = [
                line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
            ]
            try:
                tree = ast.parse("\n".join(lines))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == "attention_utils":
                    used.update(alias.name for alias in node.names)
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "au"
                ):
                    used.add(node.attr)
    return used


def test_every_name_a_chapter_uses_is_public():
    used = _names_the_chapters_use()
    assert len(used) > 20, "the chapters import the library: the parser found too few names"
    assert used <= set(attention_utils.__all__), sorted(used - set(attention_utils.__all__))


def test_every_module_with_need_weights_uses_the_one_switch():
    """Every public module that takes ``need_weights`` gets it from ``NeedWeightsMixin``.

    So setting it is type-checked and reaches every attention-holding module inside, whatever
    the chapter (sequence layers, CNN gates, vision self-attention, the ViT).
    """
    import inspect

    from torch import nn

    import attention_utils
    from attention_utils.core import NeedWeightsMixin

    takes_it = [
        name
        for name in attention_utils.__all__
        if inspect.isclass(obj := getattr(attention_utils, name))
        and issubclass(obj, nn.Module)
        and "need_weights" in inspect.signature(obj.__init__).parameters
    ]
    assert len(takes_it) > 20
    plain = [n for n in takes_it if not issubclass(getattr(attention_utils, n), NeedWeightsMixin)]
    assert plain == [], f"need_weights as a plain attribute: {plain}"
