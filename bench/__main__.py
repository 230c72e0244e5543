"""Run the benchmarks and update docs/benchmarks.md.

    python -m bench                      # every benchmark (what `make bench` runs)
    python -m bench broadcast            # one benchmark
    python -m bench broadcast --clients 10,100 --saves 30 --no-docs

Each benchmark rewrites only its own "## " section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from . import authors, broadcast, ceiling, history, page, saves, scaleout, stall, textwork
from .common import DOCS, ROOT, update_section

BENCHMARKS = {m.NAME: m for m in (broadcast, scaleout, saves, history, page, textwork, stall, authors, ceiling)}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/benchmarks.md alone")
    for module in BENCHMARKS.values():
        module.add_arguments(parser.add_argument_group(module.NAME))
    options = parser.parse_args(argv)
    unknown = [name for name in options.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    names = options.names or list(BENCHMARKS)
    options.command = ("make bench   (runs .venv/bin/python -m bench)" if not argv else
                       ".venv/bin/python -m bench " + " ".join(shlex.quote(a) for a in argv))
    began = time.perf_counter()
    for name in names:
        module = BENCHMARKS[name]
        print(f"== {module.TITLE}", flush=True)
        body = module.run(options)
        if body is not None and not options.no_docs:
            update_section(module.TITLE, body)
            print(f"\nUpdated section '{module.TITLE}' of {DOCS.relative_to(ROOT)}")
    print(f"\nBenchmarks done in {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
