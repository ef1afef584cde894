"""The soak benchmark's slopes and verdicts (bench/soak.py)."""

from __future__ import annotations

import pytest
from bench.soak import fit, slope_per_minute, verdicts


def test_the_least_squares_slope_is_per_minute():
    assert slope_per_minute([(0, 10.0), (60, 12.0), (120, 14.0)]) == pytest.approx(2.0)
    assert slope_per_minute([(0, 5.0), (60, 5.0)]) == 0.0
    assert slope_per_minute([(0, 5.0)]) == 0.0


def test_flat_means_less_than_five_percent_an_hour_and_warmup_is_left_out():
    start = 1_000.0
    warm = [{"time": start + t, "rss": (50 + t) * 2**20, "tasks": t} for t in range(0, 120, 10)]
    steady = [
        {"time": start + t, "rss": 100 * 2**20, "tasks": 40 + (t // 10) % 2} for t in range(120, 1200, 10)
    ]
    result = verdicts(warm + steady, start, warmup=120)
    assert result["rss_flat"]
    assert result["tasks_flat"]
    assert result["samples_after_warmup"] == len(steady)

    growing = [{**s, "rss": s["rss"] + (s["time"] - start) * 2**14} for s in steady]  # 0.94 MiB/min
    assert not verdicts(growing, start, warmup=120)["rss_flat"]


def test_noise_around_a_level_is_flat_and_a_steady_climb_is_not():
    noisy = [(t, 400.0 + (150 if (t // 5) % 3 == 0 else -75)) for t in range(0, 1200, 5)]
    slope, error = fit(noisy)
    assert abs(slope) <= 2 * error
    start = 0.0
    samples = [{"time": t, "rss": 100 * 2**20, "tasks": v} for t, v in noisy]
    assert verdicts(samples, start, warmup=0)["tasks_flat"]
