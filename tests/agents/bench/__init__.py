"""Tests of the benchmark (``s2b bench``, ``s2b report``)."""
