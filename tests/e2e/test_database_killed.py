"""A private mariadbd SIGKILLed while a long analysis writes its rows: the client gets a 503 with Retry-After,
nothing half-written survives, and once the database is back the run is failed by the sweep."""
from __future__ import annotations

import threading
from datetime import timedelta

import pymysql

from app import create_app
from config import load_config
from migrate import upgrade
from tests.conftest import assert_problem
from tests.e2e.conftest import sales_csv, signed_in, wait_until

CUSTOMERS = 150_000


def inserting_rfm_rows(port: int) -> bool:
    try:
        connection = pymysql.connect(host="127.0.0.1", port=port, user="root", connect_timeout=2)
    except pymysql.MySQLError:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'INSERT INTO rfm_rows%%'")
        busy = cursor.fetchone()[0] > 0
    connection.close()
    return busy


def test_database_killed_mid_write(mariadb, tmp_path, monkeypatch):
    for name, value in {"DATABASE_URL": mariadb.url, "UPLOAD_DIR": str(tmp_path / "uploads"), "REDIS_URL": "",
                        "RATELIMIT_ENABLED": "false", "MAX_UPLOAD_MB": "64"}.items():
        monkeypatch.setenv(name, value)
    upgrade(mariadb.url)
    app = create_app(load_config("testing"))
    client = app.test_client()
    headers = signed_in(client)
    path = sales_csv(tmp_path / "many.csv", CUSTOMERS)
    with path.open("rb") as handle:
        file_id = client.post("/api/upload", headers=headers, data={"file": (handle, "many.csv")},
                              content_type="multipart/form-data").json["file_id"]

    answers = []
    run = threading.Thread(target=lambda: answers.append(client.post(
        "/api/process", headers=headers, json={"file_id": file_id, "type": "rfm", "params": {"n_clusters": 3}})))
    run.start()
    wait_until(lambda: inserting_rfm_rows(mariadb.port) or not run.is_alive(), 240, "the rfm rows' INSERT",
               interval=0.01)
    assert run.is_alive(), answers[0].get_data(as_text=True) if answers else "the analysis ended before its write"
    mariadb.kill()
    run.join(120)
    assert not run.is_alive()
    body = assert_problem(answers[0], 503)
    assert answers[0].headers["Retry-After"].isdigit() and body["type"] == "/problems/database-unavailable"
    assert_problem(client.get("/api/analyses", headers=headers), 503)

    mariadb.start()  # crash recovery rolls the half-written transaction back
    services = app.extensions["services"]
    listed = client.get("/api/analyses", headers=headers).json["items"]
    assert [item["status"] for item in listed] == ["running"]  # its failure could not be written
    url = f"/api/analyses/{listed[0]['analysis_id']}"

    def swept() -> bool:  # the run has ended, so nothing beats for it; a zero threshold stands in for the minute
        services.jobs.fail_stopped(timedelta(seconds=0))
        return client.get(url, headers=headers).json["status"] == "failed"

    wait_until(swept, 10, "the sweep to fail the run", interval=0.5)
    failed = client.get(url, headers=headers).json
    assert "worker stopped" in failed["error"]
    connection = pymysql.connect(host="127.0.0.1", port=mariadb.port, user="root", database="retail")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM rfm_rows")
        assert cursor.fetchone()[0] == 0
    connection.close()
    again = client.post("/api/process", headers=headers,
                        json={"file_id": file_id, "type": "statistical", "params": {}})
    assert again.status_code == 200, again.get_data(as_text=True)
    app.extensions["db_engine"].dispose()

