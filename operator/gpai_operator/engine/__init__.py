"""The compliance engine: pure functions of (cluster state, now). No I/O, no clock, no API client."""
