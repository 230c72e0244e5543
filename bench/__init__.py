"""Benchmarks of drafting, run by `make bench` (all) or `python -m bench NAME` (one).

Each benchmark module exposes TITLE (its "## " heading in docs/benchmarks.md), DESCRIPTION
and `run(options) -> str`, which measures, prints a table and returns the Markdown body of
its section. bench/__main__.py replaces only that section when it rewrites the docs file.
"""
