"""Benchmark and load run for issue 9 (not part of the test suite): see bench/README.md."""
