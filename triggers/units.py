"""Unit helpers: Beaufort levels and rounding to the precision official criteria speak in."""

from __future__ import annotations

import numpy as np

# Lower bound (m/s, 10 m mean wind) of Beaufort levels 1..17 (GB/T 28591-2012).
BEAUFORT_LOWER_BOUNDS_MS = np.array(
    [0.3, 1.6, 3.4, 5.5, 8.0, 10.8, 13.9, 17.2, 20.8, 24.5, 28.5, 32.7, 37.0, 41.5, 46.2, 51.0, 56.1]
)


def tenths(values) -> np.ndarray:
    """Round to 0.1, the precision of the official tables, so 10.799999 m/s counts as 10.8."""
    return np.round(np.asarray(values, dtype=float), 1)


def beaufort_level(speed_ms) -> np.ndarray:
    """Beaufort level of each wind speed (float array; NaN stays NaN, never a false level 17)."""
    speeds = tenths(speed_ms)
    levels = np.searchsorted(BEAUFORT_LOWER_BOUNDS_MS, speeds, side="right").astype(float)
    levels[np.isnan(speeds)] = np.nan
    return levels
