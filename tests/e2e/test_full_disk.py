"""A small tmpfs as UPLOAD_DIR: an upload or an analysis that does not fit is a 507 problem, nothing of it is
left on disk or in the database, and /api/services-status says storage is not ok."""
from __future__ import annotations

import io
import subprocess

import pytest

from app import create_app
from config import load_config
from tests.conftest import SALES, assert_problem
from tests.e2e.conftest import sales_csv, signed_in


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_is_a_507_and_keeps_nothing(small_disk, tmp_path, monkeypatch, sqlite_template):
    import shutil

    shutil.copy(sqlite_template, tmp_path / "db.sqlite3")  # the database lives elsewhere, as in production
    for name, value in {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "UPLOAD_DIR": str(small_disk),
                        "REDIS_URL": "", "RATELIMIT_ENABLED": "false", "STORAGE_MIN_FREE_MB": "1"}.items():
        monkeypatch.setenv(name, value)
    app = create_app(load_config("testing"))
    client = app.test_client()
    headers = signed_in(client)

    big = sales_csv(tmp_path / "big.csv", 40_000)  # a few MB: more than the disk holds
    with big.open("rb") as handle:
        response = client.post("/api/upload", headers=headers, data={"file": (handle, "big.csv")},
                               content_type="multipart/form-data")
    body = assert_problem(response, 507)
    assert body["type"] == "/problems/storage-full" and "storage is full" in body["detail"]
    assert [path for path in small_disk.rglob("*") if path.is_file()] == []
    assert client.get("/api/files", headers=headers).json["total"] == 0

    file_id = client.post("/api/upload", headers=headers, data={"file": (io.BytesIO(SALES.encode()), "s.csv")},
                          content_type="multipart/form-data").json["file_id"]
    before = {path for path in small_disk.rglob("*") if path.is_file()}
    filler = small_disk / "filler"
    with filler.open("wb") as out, pytest.raises(OSError):
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    response = client.post("/api/process", headers=headers, json={"file_id": file_id, "type": "cleaning"})
    assert_problem(response, 507)
    assert {path for path in small_disk.rglob("*") if path.is_file()} == before | {filler}  # nothing half-written
    assert not list(small_disk.glob("user_*/*/analyses/*"))
    listed = client.get("/api/analyses", headers=headers).json["items"]
    assert [(item["status"], "storage is full" in item["error"]) for item in listed] == [("failed", True)]
    storage = client.get("/api/services-status").json["storage"]
    assert storage["status"] == "low" and storage["free_mb"] == 0
    app.extensions["db_engine"].dispose()
