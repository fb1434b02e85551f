"""Benchmarks against the baseline, printed as ratios in one run (`make bench`). No test asserts timings.

Data: ../shared/bench/make_retail.py makes the ~446k-row Online-Retail-shaped CSV and XLSX (cached in bench/out/).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
OUT = ROOT / "bench" / "out"


def ensure_data() -> tuple[Path, Path]:
    """The benchmark CSV and XLSX, generated once from the real sample."""
    OUT.mkdir(parents=True, exist_ok=True)
    paths = OUT / "retail.csv", OUT / "retail.xlsx"
    for path in paths:
        if not path.exists():
            print(f"generating {path.name} with make_retail.py (once; the xlsx takes a few minutes)...", flush=True)
            subprocess.run([sys.executable, str(SHARED / "bench" / "make_retail.py"),
                            str(SHARED / "data" / "online_retail_sample.xlsx"), str(path)], check=True)
    return paths


def timed(function, repeat: int = 1) -> tuple[float, object]:
    """Best wall time of `repeat` runs and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def api_client(workdir: Path):
    """A real app on a throwaway SQLite database, logged in."""
    os.environ.update(DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}", UPLOAD_DIR=str(workdir / "uploads"),
                      MAX_UPLOAD_MB="200", RATELIMIT_ENABLED="false", REDIS_URL="", LOG_LEVEL="WARNING")
    from app import create_app
    from config import load_config
    from migrate import upgrade

    upgrade(os.environ["DATABASE_URL"])
    app = create_app(load_config("testing"))
    client = app.test_client()
    client.post("/api/auth/register", json={"username": "bench", "email": "bench@example.com",
                                            "password": "bench password"})
    token = client.post("/api/auth/login", json={"identifier": "bench", "password": "bench password"}).json["token"]
    return client, {"Authorization": f"Bearer {token}"}


def upload(client, headers, path: Path) -> dict:
    with path.open("rb") as handle:
        response = client.post("/api/upload", headers=headers, data={"file": (handle, path.name)},
                               content_type="multipart/form-data")
    if response.status_code != 201:
        raise SystemExit(f"upload of {path.name} failed: {response.status_code} {response.json}")
    return response.json


def bench_ingest(csv_path: Path, xlsx_path: Path, skip_openpyxl: bool) -> None:
    import pandas as pd

    from services.ingest.excel import read_sheet

    with tempfile.TemporaryDirectory() as workdir:
        client, headers = api_client(Path(workdir))
        upload(client, headers, csv_path)  # warms the parser's forkserver, as a running server would be
        seconds, answer = timed(lambda: upload(client, headers, csv_path), repeat=3)
        print(f"ingest csv   {answer['rows']:,} rows through POST /api/upload: {seconds:.2f} s (target <= 1.5 s)")
        seconds, answer = timed(lambda: upload(client, headers, xlsx_path))
        print(f"ingest xlsx  {answer['rows']:,} rows through POST /api/upload: {seconds:.2f} s")
    ours, frame = timed(lambda: read_sheet(xlsx_path, "xlsx", "Sheet1"))
    print(f"read xlsx    fastexcel {ours:.2f} s for {len(frame):,} rows")
    if skip_openpyxl:
        return
    theirs, _ = timed(lambda: pd.read_excel(xlsx_path, engine="openpyxl"))
    print(f"read xlsx    pandas+openpyxl {theirs:.2f} s -> {theirs / ours:.1f}x faster (target >= 10x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-openpyxl", action="store_true", help="skip the slow openpyxl baseline")
    args = parser.parse_args()
    csv_path, xlsx_path = ensure_data()
    bench_ingest(csv_path, xlsx_path, args.skip_openpyxl)


if __name__ == "__main__":
    main()
