"""Benchmarks: `python -m bench NAME [options]` (see bench/__main__.py). Not part of the test run."""
