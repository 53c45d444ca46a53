"""The explorers (attention_utils.explorers): small, deterministic, with their controls bound.

Each chapter's explorer is a Vega-Lite spec with its data inline; the browser test
(tests/test_site.py) checks that the controls move the rendered chart. Here: the data stay under
the byte budget, two calls give the same spec (and the same HTML, which nbval compares), every
control is a bound parameter whose value picks rows that exist, and the helper's pieces behave.
"""

import json
import re

import altair as alt
import pytest

import attention_utils as au
from attention_utils.explorers.core import MAX_DATA_BYTES, VEGA_VERSIONS

EXPLORERS = {
    "01": au.cues_explorer,
    "02": au.kernel_regression_explorer,
    "03": au.scoring_explorer,
    "04": au.multihead_explorer,
    "05": au.channel_spatial_explorer,
    "06": au.alignment_explorer,
    "07": au.kv_cache_explorer,
    "08": au.non_local_explorer,
    # a smaller zoo than the default: every module is built and counted for each channel count
    "09": lambda: au.zoo_explorer(channels=(16, 32), size=4),
    "10": au.efficient_explorer,
    "13": au.rollout_explorer,
    "12": au.rope_explorer,
    "11": au.graph_lookup_explorer,
}


@pytest.fixture(scope="module", params=sorted(EXPLORERS))
def made(request):
    return request.param, EXPLORERS[request.param]()


def test_data_under_the_budget(made):
    chapter, explorer = made
    size = len(json.dumps(explorer.spec["datasets"], separators=(",", ":")).encode())
    assert explorer.data_bytes == size
    assert 0 < size < MAX_DATA_BYTES == 300_000
    assert explorer.name.startswith(chapter)


def test_two_calls_give_the_same_spec_and_html(made):
    chapter, explorer = made
    again = EXPLORERS[chapter]()
    assert again.spec == explorer.spec
    assert again.html() == explorer.html()
    assert repr(again) == repr(explorer)


def test_controls_are_bound_and_pick_existing_rows(made):
    _, explorer = made
    params = {p["name"]: p for p in explorer.spec["params"]}
    assert explorer.controls and set(explorer.controls) <= set(params)
    rows = [row for data in explorer.spec["datasets"].values() for row in data]
    for control in explorer.controls:
        param = params[control]
        assert param["bind"]["input"] in {"range", "select"}
        if param["bind"]["input"] == "select":
            assert param["value"] in param["bind"]["options"]
        else:
            assert param["bind"]["min"] <= param["value"] <= param["bind"]["max"]
        if any(control in row for row in rows):
            assert any(
                row.get(control) == param["value"]
                or (
                    isinstance(param["value"], float)
                    and abs(row.get(control, 1e9) - param["value"]) < 1e-6
                )
                for row in rows
            ), f"no row for the initial {control}"


def test_html_is_an_explorer_div_with_the_spec_and_a_loader(made):
    _, explorer = made
    bundle = explorer._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    html = bundle["text/html"]
    div = re.match(
        r'<div class="where-to-look-explorer" id="(wtl-[0-9a-f]{12})" '
        r'data-explorer="([^"]+)" data-controls="([^"]+)"></div>',
        html,
    )
    assert div and div.group(2) == explorer.name
    assert div.group(3).split() == explorer.controls
    spec = re.search(r'<script type="application/json">(.*?)</script>', html, re.S).group(1)
    assert json.loads(spec.replace("<\\/", "</")) == explorer.spec
    for name, version in VEGA_VERSIONS.items():
        assert f'["{name}", "{version}"]' in html
    assert "bytes of data" in bundle["text/plain"]


def test_versions_match_package_json():
    """The CDN versions a notebook loads are the ones the website serves (package.json)."""
    from pathlib import Path

    pins = json.loads((Path(__file__).resolve().parents[1] / "package.json").read_text())
    assert {k: pins["dependencies"][k] for k in VEGA_VERSIONS} == VEGA_VERSIONS
    assert alt.SCHEMA_VERSION.startswith("v" + VEGA_VERSIONS["vega-lite"].split(".")[0])


def test_slider_dropdown_pick():
    s = au.slider("h", [0.1, 0.2, 0.3], "bandwidth")
    spec = alt.Chart(alt.Data(values=[{"h": 0.2}])).mark_point().add_params(s).to_dict()
    (param,) = spec["params"]
    assert param["value"] == 0.2 and param["bind"]["step"] == 0.1 and param["bind"]["min"] == 0.1
    d = au.dropdown("kernel", ["a", "b"])
    assert d.param.value == "a"
    assert "abs(datum['h'] - h) < 1e-6" in au.pick("h")


def test_kernel_regression_explorer_uses_the_library():
    """The fit in the explorer's data is nadaraya_watson's, rounded to the page's precision."""
    import torch

    explorer = au.kernel_regression_explorer()
    fits = explorer.spec["datasets"]["fits"]
    row = next(r for r in fits if r["kernel"] == "gaussian" and r["log_bandwidth"] == 0.0)
    data = au.kernel_regression_data()
    expected, _ = au.nadaraya_watson(
        data.x_test.double(), data.x_train.double(), data.y_train.double(), 1.0, "gaussian"
    )
    assert torch.allclose(torch.tensor(row["y"], dtype=torch.float64), expected, atol=5e-4)


def test_rope_explorer_is_apply_rotary_score_by_distance():
    """Pair p's curve is cos(distance * base^(-2p/d)); the mean curve starts at 1."""
    import math

    explorer = au.rope_explorer(head_dim=8, max_distance=16)
    pairs, means = explorer.spec["datasets"]["pairs"], explorer.spec["datasets"]["means"]
    assert len(pairs) == 5 * 4 and len(means) == 5
    row = next(r for r in pairs if r["log10_base"] == 2 and r["pair"] == 1)
    theta = 100.0 ** (-2 / 8)
    assert row["score"] == [round(math.cos(t * theta), 3) + 0.0 for t in row["distance"]]
    assert all(m["score"][0] == 1.0 for m in means)


def test_rope_explorer_mean_curve_as_chapter_12_says():
    """Chapter 12's caption: base 10 back above 0.65 at distance 101; base 1e4 stays > -0.05."""
    means = {m["log10_base"]: m["score"] for m in au.rope_explorer().spec["datasets"]["means"]}
    assert means[1][101] > 0.65 and means[1][101] >= means[1][2]
    assert min(means[4]) > -0.05


def test_importing_the_package_does_not_import_altair():
    """Altair takes seconds to import; only a chapter's explorer cell needs it."""
    import subprocess
    import sys

    code = (
        "import attention_utils, sys; before = 'altair' in sys.modules; "
        "attention_utils.slider('b', [1, 2]); print(before, 'altair' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False True"
