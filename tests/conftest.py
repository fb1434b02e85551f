"""Fixtures: a fresh database per test on SQLite, and on MariaDB too when TEST_MYSQL_URL is set."""
from __future__ import annotations

import io
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from config import load_config
from middlewares.rate_limit import limiter
from migrate import upgrade
from models.tables import metadata

# ../shared beside the checkout holds the real sample data (CI clones the repo with shared/ beside it).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLE_FILE = SHARED_DATA / "online_retail_sample.xlsx"
PUBLIC_DATA = SHARED_DATA / "public"
pytest_plugins = ["tests.s3server"]  # the S3 server and the file/s3 storage fixtures
BACKENDS = ["sqlite"] + (["mysql"] if os.environ.get("TEST_MYSQL_URL") else [])
PASSWORD = "correct horse 1"
TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
TEST_DATA = Path(__file__).resolve().parent / "data"
REPO = Path(__file__).resolve().parents[1]
# Ten hand-checked order lines: a cancellation, a zero quantity, a guest, a duplicate, a formula-looking text.
SALES = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
1,A,Cup,2,2011-01-03 10:00,1.50,c1,UK
1,B,Jug,1,2011-01-03 10:00,3.00,c1,UK
2,A,Cup,4,2011-01-10 12:00,1.50,c2,France
3,C,=HYPERLINK("x"),1,2011-02-01 09:30,10.00,c3,UK
C4,A,Cup,-1,2011-02-02 09:00,1.50,c1,UK
5,B,Jug,0,2011-02-03 09:00,3.00,c2,France
6,B,Jug,1,2011-02-05 15:00,3.00,,UK
6,B,Jug,1,2011-02-05 15:00,3.00,,UK
7,A,Cup,3,2011-03-01 11:00,1.50,c4,Spain
8,C,Vase,2,2011-03-05 16:00,10.00,c2,France
"""


def shared_file(path: Path) -> Path:
    """`path` under ../shared, or a skip saying why when that folder (or the file) is absent."""
    if not path.exists():
        pytest.skip(f"needs the real data file {path} (../shared beside the checkout), which is absent")
    return path


@pytest.fixture
def sample_file() -> Path:
    """The UCI Online Retail sample workbook from ../shared (skips without it)."""
    return shared_file(SAMPLE_FILE)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """One migrated SQLite file; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@contextmanager
def throwaway_mysql_database(prefix: str) -> Iterator[str]:
    """A fresh, empty database on TEST_MYSQL_URL's server, dropped afterwards."""
    server_url = make_url(os.environ["TEST_MYSQL_URL"])
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    server = create_engine(server_url)
    with server.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


@pytest.fixture(scope="session")
def mysql_database_url():
    """A throwaway MariaDB database for this test run, migrated once and dropped at the end."""
    database = throwaway_mysql_database("rat_test")
    try:
        url = database.__enter__()
    except Exception as exc:  # noqa: BLE001 - any failure here means the MariaDB half cannot run
        pytest.exit(f"TEST_MYSQL_URL is set but MariaDB is not usable: {exc}", returncode=3)
    upgrade(url)
    yield url
    database.__exit__(None, None, None)


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """A migrated, empty database: a copy of the SQLite template, or the run's MariaDB emptied."""
    if request.param == "sqlite":
        path = tmp_path / "db.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("mysql_database_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()
    return url


@pytest.fixture
def app(database_url, tmp_path, monkeypatch):
    """The application on a fresh database and a fresh upload folder."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("AUTH_RATE_LIMIT", "10/minute")
    application = create_app(load_config("testing"))
    yield application
    limiter.reset()
    application.extensions["db_engine"].dispose()


@pytest.fixture
def seed_file(app, monkeypatch):
    """Store a file through FileService with its parser in this process, not through HTTP and the sandbox: for
    tests of what comes after an upload. Returns seed(account, content, name, **options) -> the upload answer."""
    import services.files as file_service

    monkeypatch.setattr(file_service, "run_sandboxed", lambda function, _limits, *args: function(*args))

    def seed(account, content: str | bytes = SALES, name: str = "sales.csv", **options) -> dict:
        data = content.encode() if isinstance(content, str) else content
        described = app.extensions["services"].files.upload(account.user_id, io.BytesIO(data), name, **options)
        return {"message": "file uploaded", **described}

    return seed


@pytest.fixture
def shared_redis():
    """The shared Redis (DB 15) for RQ tests, which each use a queue of their own; skipped when it is not there."""
    import redis

    connection = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        connection.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return connection


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def services(app):
    return app.extensions["services"]


@dataclass
class Account:
    user_id: int
    username: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


class AuthActions:
    """Register and log in through the API, like the flask tutorial's AuthActions."""

    def __init__(self, client, services):
        self.client = client
        self.services = services

    def register(self, username: str = "alice", email: str | None = None, password: str = PASSWORD) -> Account:
        email = email or f"{username}@example.com"
        response = self.client.post("/api/auth/register", json={"username": username, "email": email,
                                                                "password": password})
        assert response.status_code == 201, response.json
        return Account(response.json["user_id"], username, email, password, response.json["token"])

    def admin(self, username: str = "root") -> Account:
        """An admin made the way the CLI makes one, then logged in over HTTP."""
        user_id = self.services.admin.create_admin(username, f"{username}@example.com", PASSWORD)
        return Account(user_id, username, f"{username}@example.com", PASSWORD, self.login(username).json["token"])

    def login(self, identifier: str, password: str = PASSWORD, **kwargs):
        return self.client.post("/api/auth/login", json={"identifier": identifier, "password": password}, **kwargs)


@pytest.fixture
def auth(client, services):
    return AuthActions(client, services)


def assert_problem(response, status: int, field: str | None = None) -> dict:
    """The response is an RFC 9457 problem with this status (and, if given, an error on `field`)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def summary_of(client, account, file_id: int, kind: str, **params) -> dict:
    """Run an analysis through POST /api/process and return its summary (asserting it finished)."""
    response = client.post("/api/process", headers=account.headers,
                           json={"file_id": file_id, "type": kind, "params": params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["summary"]


def post_upload(client, account, content: str | bytes | Path = SALES, name: str | None = None, **form):
    """POST /api/upload of text, bytes or a file (under `name`, default the file's or sales.csv), with extra form
    fields (dicts are sent as JSON); the response, whatever it is."""
    if isinstance(content, Path):
        name, content = name or content.name, content.read_bytes()
    data = content.encode() if isinstance(content, str) else content
    fields = {key: json.dumps(value) if isinstance(value, dict) else value for key, value in form.items()}
    return client.post("/api/upload", headers=account.headers, data={**fields, "file": (io.BytesIO(data), name or
                                                                                        "sales.csv")},
                       content_type="multipart/form-data")


def upload(client, account, content: str | bytes | Path = SALES, name: str | None = None, **form) -> dict:
    """post_upload that must succeed: the 201 answer (file_id, roles, columns...)."""
    response = post_upload(client, account, content, name, **form)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json
