"""The object store on both backends (a folder and a real SeaweedFS), its faults, and presigned downloads on S3."""
from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import joblib
import numpy as np
import pandas as pd
import pytest

from config import load_config
from middlewares.errors import handle_app_error
from services.errors import NotFound
from services.runtime.objectstore import (
    LocalStore,
    ObjectNotFound,
    PresignUnavailable,
    StorageConfigError,
    StorageFull,
    StorageUnavailable,
    open_store,
)
from services.runtime.presign import Credentials
from services.runtime.s3store import S3Options
from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY, free_ports

HANG_GUARD_SECONDS = 15  # far above the ~1 s a dead server takes to report; catches a hang, not slowness
UNSAFE_KEYS = ["/etc/passwd", "../x", "user_1/../../x", "a\\b", "a\x00b", "", "a//b", "./a", "a/"]


def s3_options() -> S3Options:
    return S3Options(region=REGION, credentials=Credentials(ACCESS_KEY, SECRET_KEY))


def s3_store(server, bucket: str, prefix: str = "store"):
    options = s3_options()
    return open_store(f"s3://{bucket}/{prefix}", S3Options(**{**options.__dict__, "endpoint_url": server.endpoint}))


def sales_frame(rows: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "InvoiceNo": [f"{536365 + i // 4:06d}" for i in range(rows)],
        "CustomerID": pd.array([f"0{17850 + i % 40}" if i % 9 else None for i in range(rows)], dtype="string"),
        "Quantity": rng.integers(-3, 50, rows),
        "UnitPrice": rng.random(rows).round(2) * 10,
        "InvoiceDate": pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, 10**7, rows), unit="s"),
    })


def test_bytes_round_trip_and_overwrite(object_store):
    assert object_store.put_bytes("user_1/k1/original.csv", b"a,b\n1,2\n") == 8
    assert object_store.exists("user_1/k1/original.csv")
    assert object_store.read_bytes("user_1/k1/original.csv") == b"a,b\n1,2\n"
    object_store.put_bytes("user_1/k1/original.csv", b"new")
    assert object_store.read_bytes("user_1/k1/original.csv") == b"new"


def test_put_file_and_streamed_chunks(object_store, tmp_path):
    payload = os.urandom(3 * 1024 * 1024 + 17)
    source = tmp_path / "upload.bin"
    source.write_bytes(payload)
    assert object_store.put_file("user_1/k2/original.bin", source) == len(payload)
    chunks = list(object_store.iter_chunks("user_1/k2/original.bin", chunk_size=1 << 20))
    assert len(chunks) == 4
    assert b"".join(chunks) == payload
    with object_store.open_stream("user_1/k2/original.bin") as stream:
        assert stream.read() == payload


def test_parquet_round_trip_keeps_types(object_store):
    frame = sales_frame()
    size = object_store.write_parquet("user_1/k3/data.parquet", frame)
    assert size == object_store.list("user_1/k3")[0].size
    back = object_store.read_parquet("user_1/k3/data.parquet")
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert back["CustomerID"].iloc[1] == "017851"  # leading zeros of text ids survive
    assert list(object_store.read_parquet("user_1/k3/data.parquet", columns=["Quantity"]).columns) == ["Quantity"]


def test_joblib_model_through_writer_and_seekable_reader(object_store):
    model = {"centroids": np.arange(15.0).reshape(5, 3), "labels": ["Champions", "Lost"]}
    with object_store.open_writer("user_1/k4/analyses/7/model.joblib") as out:
        joblib.dump(model, out)
    with object_store.open_reader("user_1/k4/analyses/7/model.joblib") as handle:
        assert handle.seekable()
        loaded = joblib.load(handle)
    np.testing.assert_array_equal(loaded["centroids"], model["centroids"])
    assert loaded["labels"] == model["labels"]


def test_list_gives_sizes_and_ages_of_one_folder_only(object_store):
    before = datetime.now(UTC) - timedelta(seconds=2)  # S3 mtimes have whole seconds
    object_store.put_bytes("user_3/a/original.csv", b"x" * 10)
    object_store.put_bytes("user_3/a/data.parquet", b"y" * 20)
    object_store.put_bytes("user_30/b/original.csv", b"z" * 30)
    listed = {item.key: item for item in object_store.list("user_3")}
    assert {key: item.size for key, item in listed.items()} == {"user_3/a/original.csv": 10,
                                                                "user_3/a/data.parquet": 20}
    for item in listed.values():
        assert item.mtime.tzinfo is not None and item.mtime >= before
        assert timedelta(0) <= item.age + timedelta(seconds=2) and item.age < timedelta(minutes=10)
    assert {item.key for item in object_store.list()} == {*listed, "user_30/b/original.csv"}
    assert object_store.list("user_9") == []


def test_delete_prefix_and_delete(object_store):
    object_store.put_bytes("user_3/a/original.csv", b"1")
    object_store.put_bytes("user_3/b/data.parquet", b"2")
    object_store.put_bytes("user_30/c/data.parquet", b"3")
    object_store.delete_prefix("user_3")
    assert [item.key for item in object_store.list()] == ["user_30/c/data.parquet"]
    object_store.delete_prefix("user_3")  # nothing left: no error
    object_store.delete_prefix("user_4/never")
    assert object_store.delete("user_30/c/data.parquet") is True
    assert object_store.delete("user_30/c/data.parquet") is False
    assert object_store.list() == []


@pytest.mark.parametrize("read", ["read_bytes", "open_reader", "open_stream", "iter_chunks", "read_parquet"])
def test_a_missing_key_is_not_found(object_store, read):
    with pytest.raises(ObjectNotFound) as caught:
        getattr(object_store, read)("user_1/none/data.parquet")
    assert isinstance(caught.value, NotFound) and isinstance(caught.value, FileNotFoundError)
    assert caught.value.status == 404
    assert not object_store.exists("user_1/none/data.parquet")


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused(object_store, key):
    for call in (lambda: object_store.put_bytes(key, b"x"), lambda: object_store.read_bytes(key),
                 lambda: object_store.delete_prefix(key), lambda: object_store.exists(key)):
        with pytest.raises(ValueError, match="unsafe storage key"):
            call()
    assert object_store.list() == []


def test_a_failed_write_leaves_no_object(object_store):
    with pytest.raises(RuntimeError, match="parser died"), object_store.open_writer("user_1/k5/data.parquet") as out:
        out.write(b"PAR1" * 1000)
        raise RuntimeError("parser died")
    assert not object_store.exists("user_1/k5/data.parquet")
    assert object_store.list() == []


def test_a_write_in_progress_is_invisible_under_its_key(object_store):
    with object_store.open_writer("user_1/k6/data.parquet") as out:
        out.write(b"x" * 1000)
        assert not object_store.exists("user_1/k6/data.parquet")
        in_progress = object_store.list()  # local: the hidden sibling being written; S3: nothing until close
        assert all(item.partial for item in in_progress)
        assert len(in_progress) == (1 if object_store.backend == "file" else 0)
    assert object_store.read_bytes("user_1/k6/data.parquet") == b"x" * 1000
    assert [(item.key, item.partial) for item in object_store.list()] == [("user_1/k6/data.parquet", False)]


def test_health_when_reachable(object_store):
    health = object_store.health()
    assert health["reachable"] is True, health
    assert health["backend"] == object_store.backend
    if object_store.backend == "file":
        assert health["free_bytes"] > 0
    else:
        assert health["free_bytes"] is None and health["location"].startswith("s3://")


def test_health_of_a_missing_folder(tmp_path):
    store = open_store((tmp_path / "gone").as_uri())
    (tmp_path / "gone").rmdir()
    assert store.health()["reachable"] is False


@pytest.mark.parametrize(("error", "status"), [(StorageUnavailable(), 503), (StorageFull("full"), 507),
                                               (ObjectNotFound("user_1/k/x"), 404)])
def test_storage_errors_are_problems(app, error, status):
    with app.test_request_context():
        response = handle_app_error(error)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert response.json["status"] == status
    assert ("Retry-After" in response.headers) == (status == 503)


def test_default_storage_url_is_the_upload_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("STORAGE_URL", raising=False)
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "my uploads"))
    config = load_config("testing")
    store = open_store(config.STORAGE_URL, S3Options.from_config(config))
    assert isinstance(store, LocalStore)
    store.put_bytes("user_2/abc/original.csv", b"x")
    assert (tmp_path / "my uploads" / "user_2" / "abc" / "original.csv").read_bytes() == b"x"


@pytest.mark.parametrize("url", ["ftp://host/x", "file://relative/path", "s3://", "uploads", "s3://bucket/../x"])
def test_unusable_storage_urls_are_config_errors(url):
    with pytest.raises((StorageConfigError, ValueError)):
        open_store(url)


def test_presign_is_not_available_on_file(tmp_path):
    with pytest.raises(PresignUnavailable):
        open_store(tmp_path.as_uri()).presign_get("user_1/a/x.csv", "x.csv")


def fetch(url: str) -> tuple[int, bytes, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own presigned http URL
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_presigned_url_downloads_and_refuses_tampering_and_expiry(s3_server, s3_bucket):
    store = s3_store(s3_server, s3_bucket)
    store.put_bytes("user_1/k/analyses/3/cleaned.csv", b"a,b\n1,2\n")
    store.put_bytes("user_2/k/secret.csv", b"not yours")
    url = store.presign_get("user_1/k/analyses/3/cleaned.csv", "analysis-3 cleaning.csv", expires_seconds=60)
    status, body, headers = fetch(url)
    assert (status, body) == (200, b"a,b\n1,2\n")
    assert 'filename="analysis-3 cleaning.csv"' in headers["Content-Disposition"]
    assert fetch(url.replace("user_1/k/analyses/3/cleaned.csv", "user_2/k/secret.csv"))[0] == 403
    assert fetch(url.replace("X-Amz-Expires=60", "X-Amz-Expires=600"))[0] == 403
    assert fetch(url.replace("cleaning.csv", "evil.exe"))[0] == 403
    short = store.presign_get("user_1/k/analyses/3/cleaned.csv", "x.csv", expires_seconds=1)
    time.sleep(2.5)
    assert fetch(short)[0] == 403


def test_a_missing_bucket_is_a_clear_error_at_open(s3_server):
    with pytest.raises(StorageConfigError, match="no-such-bucket") as caught:
        s3_store(s3_server, "no-such-bucket")
    assert s3_server.endpoint in str(caught.value)


def test_an_unreachable_endpoint_is_a_clear_error_at_open():
    options = S3Options(endpoint_url=f"http://127.0.0.1:{free_ports(1)[0]}", credentials=Credentials("a", "b"),
                        max_attempts=1)
    with pytest.raises(StorageConfigError, match="not usable"):
        open_store("s3://bucket", options)


def test_server_killed_mid_write_then_recovery_with_the_same_store(private_s3_server):
    bucket = private_s3_server.create_bucket()
    store = s3_store(private_s3_server, bucket)
    store.put_bytes("user_1/old/data.parquet", b"kept")
    chunk = os.urandom(1 << 20)
    with pytest.raises(StorageUnavailable) as caught, store.open_writer("user_1/new/data.parquet") as out:
        for written in range(64):
            out.write(chunk)
            if written == 20:  # past the first multipart part, so an upload is under way
                private_s3_server.kill()
    assert caught.value.status == 503 and caught.value.headers["Retry-After"]
    for call in (store.list, lambda: store.read_bytes("user_1/old/data.parquet")):
        with pytest.raises(StorageUnavailable):
            call()
    started = time.monotonic()
    health = store.health()
    assert health["reachable"] is False and "not reachable" in health["detail"]
    assert time.monotonic() - started < HANG_GUARD_SECONDS
    private_s3_server.start()
    assert store.health()["reachable"] is True
    assert [item.key for item in store.list()] == ["user_1/old/data.parquet"]  # nothing half-written
    store.put_bytes("user_1/again/original.csv", b"works")
    assert store.read_bytes("user_1/again/original.csv") == b"works"


def test_a_hung_server_is_unavailable_not_a_hang(private_s3_server):
    bucket = private_s3_server.create_bucket()
    options = S3Options(endpoint_url=private_s3_server.endpoint, region=REGION,
                        credentials=Credentials(ACCESS_KEY, SECRET_KEY), request_timeout=1, max_attempts=1)
    store = open_store(f"s3://{bucket}", options)
    store.put_bytes("user_1/k/original.csv", b"x")
    private_s3_server.pause()
    started = time.monotonic()
    try:
        with pytest.raises(StorageUnavailable):
            store.read_bytes("user_1/k/original.csv")
        assert store.health()["reachable"] is False
    finally:
        private_s3_server.resume()
    assert time.monotonic() - started < HANG_GUARD_SECONDS
    assert store.read_bytes("user_1/k/original.csv") == b"x"


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs, so the disk really fills up."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_is_storage_full_and_leaves_no_partial_file(tiny_disk):
    store = open_store(tiny_disk.as_uri())
    noise = pd.DataFrame({"x": np.random.default_rng(1).random(300_000)})  # 2.4 MB that do not compress
    for write in (lambda: store.put_bytes("user_1/k/original.csv", b"x" * (2 << 20)),
                  lambda: store.write_parquet("user_1/k/data.parquet", noise)):
        with pytest.raises(StorageFull) as caught:
            write()
        assert caught.value.status == 507
    assert store.list() == []
    assert [name for _, _, names in os.walk(tiny_disk) for name in names] == []
    store.put_bytes("user_1/k/small.csv", b"fits")
    assert store.read_bytes("user_1/k/small.csv") == b"fits"
