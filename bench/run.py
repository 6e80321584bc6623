"""Runs every benchmark: `python3 dev.py bench` (embedded PostgreSQL and Redis, started for the run).

`python3 dev.py bench classification.py --speed-only` runs one benchmark; arguments that are not file
names are passed on to each benchmark run.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "ingestion.py",
    "latency.py",
    "classification.py",
    "inbox.py",
    "search.py",
    "dashboards.py",
    "alerts.py",
    "automation.py",
]

if __name__ == "__main__":
    names = [arg for arg in sys.argv[1:] if arg.endswith(".py")]
    options = [arg for arg in sys.argv[1:] if not arg.endswith(".py")]
    code = 0
    for name in names or BENCHMARKS:
        print(f"== {name}", flush=True)
        code |= subprocess.run([sys.executable, str(HERE / name), *options]).returncode
    sys.exit(code)
