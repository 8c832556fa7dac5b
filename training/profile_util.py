"""Small helpers of profiles, comparisons and the shift evaluation: the percentile interval of
bootstrap replicates, and dict rows written as CSV. :mod:`training.profile` re-exports both."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def interval95(samples: np.ndarray) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of bootstrap replicates: a 95% interval."""
    low, high = np.percentile(samples, [2.5, 97.5])
    return float(low), float(high)


def write_rows_csv(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Write dict rows (the per-value rows of a profile or comparison) as CSV, floats to 6 places."""
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        keys = list(rows[0])
        writer.writerow(keys)
        for row in rows:
            writer.writerow(
                [round(row[k], 6) if isinstance(row[k], float) else row[k] for k in keys]
            )
