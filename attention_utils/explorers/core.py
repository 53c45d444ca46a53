"""Explorers: a figure precomputed on a grid, moved through in the browser with no kernel.

A chapter computes its figure for every value of one or two controls (a bandwidth, a kernel, a
query token), with the library, and hands the table to Vega-Lite: sliders and drop-downs are
Vega-Lite *parameters* bound to HTML inputs, and each layer keeps only the rows whose state
matches them. The chart is the cell's output as HTML (``text/html``), so the same output works
on the book's static website (which serves Vega itself, ``_ext/static/explorers.js``), in
JupyterLab, Jupyter Notebook, Binder and Colab (which load the pinned Vega from a CDN).

Sources:
    A. Satyanarayan, D. Moritz, K. Wongsuphasawat, J. Heer, "Vega-Lite: A Grammar of Interactive
    Graphics", IEEE TVCG 23(1), 2017, doi:10.1109/TVCG.2016.2599030.
    J. VanderPlas et al., "Altair: Interactive Statistical Visualizations for Python", JOSS 3(32),
    1057, 2018, doi:10.21105/joss.01057.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence

from ..checks import require_positive_int

__all__ = ["Explorer", "dropdown", "make_explorer", "pick", "slider"]


class _Altair:
    """``altair``, imported on first use: it takes seconds to import, and only explorers need it."""

    def __getattr__(self, name: str):
        import altair

        return getattr(altair, name)


alt = _Altair()

#: The JavaScript a notebook loads when no website serves it; package.json pins the same versions.
VEGA_VERSIONS = {"vega": "6.4.0", "vega-lite": "6.4.1", "vega-embed": "7.3.0"}
#: The most bytes of data (the chart's inline JSON datasets) one explorer may carry.
MAX_DATA_BYTES = 300_000
#: Numbers are rounded to this many decimals: the page stays small and the text identical on
#: every CPU (the library computes in float64, so rounding never meets a last-bit difference).
DECIMALS = 4

_LOADER = """(function () {
  var div = document.getElementById("%(id)s");
  if (!div || window.whereToLookSite) { return; }  // the book's website embeds it itself
  var spec = JSON.parse(div.nextElementSibling.textContent);
  var opts = {actions: false, renderer: "svg"};
  var cdn = "https://cdn.jsdelivr.net/npm/";
  var libs = %(libs)s;
  function show(embed) { embed(div, spec, opts); }
  if (window.vegaEmbed) { show(window.vegaEmbed); return; }
  if (typeof define === "function" && define.amd && window.requirejs) {
    var paths = {};
    libs.forEach(function (l) {
      paths[l[0]] = cdn + l[0] + "@" + l[1] + "/build/" + l[0] + ".min";
    });
    window.requirejs.config({paths: paths});
    window.require(["vega-embed"], show);
    return;
  }
  libs.reduce(function (done, l) {
    return done.then(function () { return new Promise(function (ok, fail) {
      var s = document.createElement("script");
      s.src = cdn + l[0] + "@" + l[1] + "/build/" + l[0] + ".min.js";
      s.onload = ok; s.onerror = fail; document.head.appendChild(s);
    }); });
  }, Promise.resolve()).then(function () { show(window.vegaEmbed); });
})();"""


class Explorer:
    """An interactive Vega-Lite chart whose controls pick among precomputed states.

    Displayed in a notebook it is HTML: a ``<div class="where-to-look-explorer">``, the spec as
    JSON, and a loader. Its text form names the controls and the bytes of data, and is the same
    on every run, so nbval compares it exactly.

    Args:
        spec: the Vega-Lite specification (a dict, as ``alt.Chart.to_dict()`` returns).
        name: a short name, unique in the book (``"02-bandwidth-kernel"``).
        controls: the names of the parameters bound to inputs, in display order.

    Attributes:
        data_bytes: size of the inline datasets, in bytes of compact JSON.

    Raises:
        TypeError: if ``spec`` is not a dict, ``name`` not a string or ``controls`` not strings.
        ValueError: if ``name`` is empty, ``controls`` is empty or names a parameter the spec
            lacks, or the data exceed :data:`MAX_DATA_BYTES`.
    """

    def __init__(self, spec: dict, name: str, controls: Sequence[str]) -> None:
        if not isinstance(spec, dict):
            raise TypeError(f"spec must be a dict (a Vega-Lite spec), got {type(spec).__name__}")
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {type(name).__name__}")
        if not name:
            raise ValueError("name must not be empty")
        if isinstance(controls, str) or not all(isinstance(c, str) for c in controls):
            raise TypeError("controls must be a sequence of parameter names (strings)")
        params = {p.get("name") for p in spec.get("params", []) if p.get("bind")}
        missing = [c for c in controls if c not in params]
        if not controls or missing:
            raise ValueError(f"controls must name bound parameters of the spec; missing {missing}")
        self.spec, self.name, self.controls = spec, name, list(controls)
        datasets = spec.get("datasets", {})
        self.data_bytes = len(_dumps(datasets).encode("utf-8"))
        if self.data_bytes > MAX_DATA_BYTES:
            raise ValueError(
                f"the explorer {name!r} carries {self.data_bytes} bytes of data; "
                f"keep it under MAX_DATA_BYTES = {MAX_DATA_BYTES} (a coarser grid)"
            )

    def __repr__(self) -> str:
        return (
            f"Explorer {self.name!r}: move {', '.join(self.controls)} "
            f"({self.data_bytes:,} bytes of data)"
        )

    def html(self) -> str:
        """The HTML fragment: a div, the spec as JSON, the loader (ids from the spec's hash)."""
        text = _dumps(self.spec)
        uid = "wtl-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
        libs = json.dumps([[k, v] for k, v in VEGA_VERSIONS.items()])
        safe = text.replace("</", "<\\/")  # no "</script>" inside the JSON
        return (
            f'<div class="where-to-look-explorer" id="{uid}" data-explorer="{self.name}" '
            f'data-controls="{" ".join(self.controls)}"></div>'
            f'<script type="application/json">{safe}</script>'
            f'<script type="text/javascript">{_LOADER % {"id": uid, "libs": libs}}</script>'
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/html": self.html(), "text/plain": repr(self)}


def _dumps(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def round_values(values, decimals: int = DECIMALS) -> list:
    """Floats (or a tensor) rounded for the page: NaN becomes None (JSON null)."""
    if hasattr(values, "tolist"):
        values = values.tolist()
    if isinstance(values, list):
        return [round_values(v, decimals) for v in values]
    if isinstance(values, dict):
        return {k: round_values(v, decimals) for k, v in values.items()}
    if isinstance(values, float):
        return None if math.isnan(values) else round(values, decimals) + 0.0
    return values


def slider(name: str, values: Sequence[float], label: str | None = None, value=None):
    """A Vega-Lite parameter bound to a range slider over evenly spaced ``values``.

    Args:
        name: the parameter's name (an identifier), also the name :func:`pick` filters on.
        values: the grid, at least two evenly spaced numbers, in increasing order.
        label: the text beside the slider (default ``name``).
        value: the initial value (default the middle of the grid), one of ``values``.

    Returns:
        an ``altair.Parameter`` to give to ``chart.add_params``.

    Raises:
        TypeError: if ``name`` is not a string or ``values`` are not numbers.
        ValueError: if ``name`` is not an identifier, ``values`` has fewer than two entries or
            is not evenly spaced and increasing, or ``value`` is not on the grid.
    """
    _check_name(name)
    values = [float(v) for v in _numbers("values", values)]
    if len(values) < 2:
        raise ValueError("values must hold at least two numbers")
    step = values[1] - values[0]
    if step <= 0 or any(
        abs(b - a - step) > 1e-9 * max(1.0, abs(step)) for a, b in zip(values, values[1:])
    ):
        raise ValueError("values must be evenly spaced and increasing")
    if value is None:
        value = values[len(values) // 2]
    if not any(abs(value - v) < 1e-9 for v in values):
        raise ValueError(f"value must be one of values, got {value!r}")
    binding = alt.binding_range(
        min=values[0], max=values[-1], step=round(step, 9), name=(label or name) + " "
    )
    return alt.param(name=name, value=value, bind=binding)


def dropdown(name: str, options: Sequence, label: str | None = None, value=None):
    """A Vega-Lite parameter bound to a drop-down of ``options`` (strings or numbers).

    Args:
        name: the parameter's name (an identifier).
        options: the choices, at least two.
        label: the text beside the drop-down (default ``name``).
        value: the initial choice (default the first option).

    Returns:
        an ``altair.Parameter``.

    Raises:
        TypeError: if ``name`` is not a string.
        ValueError: if ``name`` is not an identifier, there are fewer than two options, or
            ``value`` is not one of them.
    """
    _check_name(name)
    options = list(options)
    if len(options) < 2:
        raise ValueError("options must hold at least two choices")
    value = options[0] if value is None else value
    if value not in options:
        raise ValueError(f"value must be one of options, got {value!r}")
    binding = alt.binding_select(options=options, name=(label or name) + " ")
    return alt.param(name=name, value=value, bind=binding)


def pick(name: str, field: str | None = None) -> str:
    """The filter expression that keeps the rows whose ``field`` equals the parameter ``name``.

    Numbers are compared with a tolerance of 1e-6, so a slider's ``0.30000000000000004`` still
    picks the row saved as ``0.3``.

    Raises:
        TypeError: if ``name`` or ``field`` is not a string.
        ValueError: if either is not an identifier.
    """
    _check_name(name)
    field = name if field is None else field
    _check_name(field, "field")
    return f"isNumber({name}) ? abs(datum['{field}'] - {name}) < 1e-6 : datum['{field}'] == {name}"


def make_explorer(
    chart, name: str, controls: Sequence[str], datasets: dict[str, list], width: int = 300
) -> Explorer:
    """Turn an Altair chart with bound parameters into an :class:`Explorer`.

    The chart's layers read named data, ``alt.Data(name="fits")``, and ``datasets`` holds the rows
    of each name; they are stored once, at the top of the spec, however many layers read them
    (and the spec is validated without them, which keeps large grids fast).

    Args:
        chart: an ``altair`` chart (single, layered or concatenated); every parameter it binds
            has an explicit name, so the spec is the same on every call.
        name: the explorer's name (see :class:`Explorer`).
        controls: the bound parameters, in display order.
        datasets: ``{data name: list of row dicts}``; a row may hold lists, which the chart's
            ``transform_flatten`` unrolls after its filters picked the state.
        width: default width of each view in pixels, >= 1.

    Returns:
        the :class:`Explorer`.

    Raises:
        TypeError: if ``chart`` is not an Altair chart or ``datasets`` not a dict of lists; see
            :class:`Explorer` for the rest.
    """
    if not isinstance(chart, alt.TopLevelMixin):
        raise TypeError(f"chart must be an altair chart, got {type(chart).__name__}")
    if not isinstance(datasets, dict) or not all(
        isinstance(k, str) and isinstance(v, list) for k, v in datasets.items()
    ):
        raise TypeError("datasets must be a dict of data names to lists of rows")
    width = require_positive_int("width", width)
    spec = chart.configure_view(continuousWidth=width, continuousHeight=200).to_dict()
    spec["datasets"] = {key: round_values(rows) for key, rows in datasets.items()}
    return Explorer(spec, name, controls)


def _check_name(name, what: str = "name") -> None:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a string, got {type(name).__name__}")
    if not name.isidentifier():
        raise ValueError(f"{what} must be an identifier (letters, digits, _), got {name!r}")


def _numbers(what: str, values) -> list:
    values = list(values)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{what} must be numbers")
    return values
