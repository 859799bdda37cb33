"""One warm quarter as a whole process, for timing from outside (e.g. ``/usr/bin/time -v``), and
its floor: the same runner with trivial notebooks (they copy a reference run's results) plus
rendering. Run a real quarter once first, so the panel cache is warm and the reference exists.

    python bench/warm_quarter.py DATA OUT [--trivial REFERENCE_RUN] [--as-at DATE] [--no-reuse]

The trivial notebooks are made once in ``OUT.trivial-notebooks`` (bench/run.py's
``trivial_notebooks``). Never run by the tests.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PERIOD = "2024/25 Q4"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--period", default=PERIOD)
    ap.add_argument("--trivial", default=None, help="a reference run's folder: run trivial notebooks instead")
    ap.add_argument("--as-at", default=None)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    from kpi_lib.measure import registry
    from kpi_lib.run import runner
    if args.trivial:
        from run import trivial_notebooks
        folder = Path(args.out + ".trivial-notebooks")
        if not folder.exists():
            trivial_notebooks(folder, Path(args.trivial) / "results", list(registry.NAMES))
        runner.NOTEBOOKS = folder
    overrides = {"as_at": args.as_at} if args.as_at else None
    runner.run_period(args.period, args.data, args.out, quiet=True, pdf=False, jobs=args.jobs, overrides=overrides)


if __name__ == "__main__":
    main()
