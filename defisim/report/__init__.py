"""Write a run's results to disk: record log (Parquet, CSV), JSON summary and PNG plots.

>>> from pathlib import Path
>>> from defisim.report import write_results
>>> write_results(result, Path("out/crash-run"))          # doctest: +SKIP
[PosixPath('out/crash-run/records.parquet'), ..., PosixPath('out/crash-run/plots/solvency.png')]

:func:`write_results` is atomic: the folder appears only once complete, and an existing
results folder is never destroyed unless ``overwrite=True`` (and then only after the new one
is complete). The plot functions can also be called on their own.
"""

from defisim.report.files import (
    RESULT_FILES,
    read_records,
    records_table,
    write_results,
)
from defisim.report.plots import plot_health, plot_prices, plot_solvency

__all__ = [
    "RESULT_FILES",
    "plot_health",
    "plot_prices",
    "plot_solvency",
    "read_records",
    "records_table",
    "write_results",
]
