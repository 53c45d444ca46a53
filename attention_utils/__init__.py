"""attention_utils: the small library behind *Where to Look*, a book on attention mechanisms.

Each chapter builds a mechanism step by step in its cells; the finished piece lives here, once,
and later chapters import it. One module per topic:

- ``plotting``: heatmaps of attention weights and curves (chapter 01 on)
- ``data``: the book's synthetic datasets, deterministic given a seed
- ``kernel_regression``: Nadaraya--Watson attention pooling (chapter 02)
- ``training``: the training loop the chapters share
- ``checks``: ``check_shape`` and the argument checks behind the library's error messages
"""

from .checks import check_shape
from .data import RegressionData, kernel_regression_data, regression_truth
from .kernel_regression import (
    KERNELS,
    NWKernelRegression,
    boxcar_kernel,
    epanechnikov_kernel,
    gaussian_kernel,
    leave_one_out,
    nadaraya_watson,
)
from .plotting import plot_lines, plot_regression, show_heatmaps
from .training import TrainingHistory, train

__version__ = "0.1.0"

__all__ = [
    "KERNELS",
    "NWKernelRegression",
    "RegressionData",
    "TrainingHistory",
    "boxcar_kernel",
    "check_shape",
    "epanechnikov_kernel",
    "gaussian_kernel",
    "kernel_regression_data",
    "leave_one_out",
    "nadaraya_watson",
    "plot_lines",
    "plot_regression",
    "regression_truth",
    "show_heatmaps",
    "train",
]
