"""Runs every benchmark: `python3 dev.py bench` (embedded PostgreSQL and Redis, started for the run)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["ingestion.py", "classification.py"]

if __name__ == "__main__":
    wanted = sys.argv[1:] or BENCHMARKS
    code = 0
    for name in wanted:
        print(f"== {name}", flush=True)
        code |= subprocess.run([sys.executable, str(HERE / name)]).returncode
    sys.exit(code)
