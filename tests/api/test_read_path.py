"""The hot read path: a token checked in one query that still sees every change another worker made, and result
pages whose totals are exact (stored for whole analyses, counted for filtered pages) in few round trips."""
import io
from contextlib import contextmanager

import pandas as pd
import pytest
from sqlalchemy import create_engine, event, func, insert, select, update

from models import users as user_dao
from models.tables import basket_rules, revoked_tokens, rfm_rows, users
from services.tokens import decode_token
from tests.conftest import assert_problem, upload

SALES = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
1,A,Cup,2,2011-01-03 10:00,1.50,c1,UK
1,B,Jug,1,2011-01-03 10:00,3.00,c1,UK
2,A,Cup,4,2011-01-10 12:00,1.50,c2,France
2,B,Jug,1,2011-01-10 12:00,3.00,c2,France
3,C,Vase,1,2011-02-01 09:30,10.00,c3,UK
3,A,Cup,1,2011-02-01 09:30,1.50,c3,UK
C4,A,Cup,-1,2011-02-02 09:00,1.50,c1,UK
5,B,Jug,0,2011-02-03 09:00,3.00,c2,France
6,B,Jug,1,2011-02-05 15:00,3.00,,UK
7,A,Cup,3,2011-03-01 11:00,1.50,c4,Spain
7,B,Jug,3,2011-03-01 11:00,3.00,c4,Spain
8,C,Vase,2,2011-03-05 16:00,10.00,c2,France
9,A,Cup,1,2011-03-07 10:00,1.50,c5,UK
10,A,Cup,2,2011-03-08 10:00,1.50,c6,UK
10,C,Vase,1,2011-03-08 10:00,10.00,c6,UK
11,B,Jug,5,2011-03-09 10:00,3.00,c7,Spain
"""


def sales_customers() -> set[str]:
    """The customers the rfm analysis must list, worked out from the raw CSV with pandas."""
    frame = pd.read_csv(io.StringIO(SALES), dtype={"InvoiceNo": str, "CustomerID": str})
    kept = frame[frame["CustomerID"].notna() & (frame["Quantity"] > 0) & (frame["UnitPrice"] > 0)
                 & ~frame["InvoiceNo"].str.startswith("C")]
    return set(kept["CustomerID"])


@contextmanager
def counted_statements(app):
    """How many SQL statements the app's engine sends inside the block (pre-pings are not statements)."""
    seen = []
    engine = app.extensions["db_engine"]

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def alice(auth):
    return auth.register("alice")


@pytest.fixture
def other_worker(database_url):
    """An engine of its own, as another gunicorn worker (or an admin's script) would have."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def finished(client, account, kind: str, **params) -> int:
    file_id = upload(client, account, SALES)["file_id"]
    response = client.post("/api/process", headers=account.headers,
                           json={"file_id": file_id, "type": kind, "params": params})
    assert response.status_code == 200, response.json
    return response.json["analysis_id"]


def test_a_token_is_checked_in_one_statement(app, services, alice):
    with counted_statements(app) as seen:
        user, _claims = services.accounts.authenticate(alice.token)
    assert user["id"] == alice.user_id
    assert len(seen) == 1  # the user, its active flag and token version, and the denylist come back together


def test_token_user_reads_the_denylist_alongside_the_user(app, alice, other_worker):
    claims = decode_token(alice.token, app.config["SECRET_KEY"])
    with other_worker.connect() as conn:
        user, revoked = user_dao.get_token_user(conn, alice.user_id, claims["jti"])
        assert (user["id"], user["username"], revoked) == (alice.user_id, "alice", False)
        assert "token_revoked" not in user
        assert user_dao.get_token_user(conn, alice.user_id + 1000, claims["jti"]) == (None, False)
        assert user_dao.get_token_user(conn, 2 ** 63, claims["jti"]) == (None, False)
    with other_worker.begin() as conn:
        conn.execute(insert(revoked_tokens).values(jti=claims["jti"], user_id=alice.user_id,
                                                   expires_at=pd.Timestamp("2100-01-01").to_pydatetime()))
    with other_worker.connect() as conn:
        assert user_dao.get_token_user(conn, alice.user_id, claims["jti"])[1] is True
        assert user_dao.get_token_user(conn, alice.user_id, "another token id")[1] is False


def test_a_token_revoked_by_another_worker_is_refused_at_once(app, client, auth, alice, other_worker):
    other_session = auth.login("alice").json["token"]
    assert client.get("/api/auth/me", headers=alice.headers).status_code == 200
    claims = decode_token(alice.token, app.config["SECRET_KEY"])
    with other_worker.begin() as conn:
        conn.execute(insert(revoked_tokens).values(jti=claims["jti"], user_id=alice.user_id,
                                                   expires_at=pd.Timestamp("2100-01-01").to_pydatetime()))
    assert_problem(client.get("/api/auth/me", headers=alice.headers), 401)
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {other_session}"}).status_code == 200


def test_a_bumped_token_version_refuses_every_earlier_token(client, alice, other_worker):
    with other_worker.begin() as conn:
        conn.execute(update(users).where(users.c.id == alice.user_id).values(token_version=users.c.token_version + 1))
    assert_problem(client.get("/api/auth/me", headers=alice.headers), 401)


def test_a_user_deactivated_elsewhere_is_refused_at_once(client, alice, other_worker):
    with other_worker.begin() as conn:  # without a version bump: only the active flag tells
        conn.execute(update(users).where(users.c.id == alice.user_id).values(is_active=False))
    body = assert_problem(client.get("/api/auth/me", headers=alice.headers), 401)
    assert "deactivated" in body["detail"]


def test_a_deleted_user_is_refused(client, alice, other_worker):
    with other_worker.begin() as conn:
        conn.execute(users.delete().where(users.c.id == alice.user_id))
    assert_problem(client.get("/api/auth/me", headers=alice.headers), 401)


def all_pages(client, account, path: str, per_page: int) -> tuple[list[int], list[dict]]:
    totals, items, page = [], [], 1
    while True:
        body = client.get(f"{path}{'&' if '?' in path else '?'}per_page={per_page}&page={page}",
                          headers=account.headers).json
        totals.append(body["total"])
        if not body["items"]:
            return totals, items
        items += body["items"]
        page += 1


def test_rfm_pages_have_exact_totals_unfiltered_and_filtered(app, client, alice, other_worker):
    analysis_id = finished(client, alice, "rfm", n_clusters=2)
    path = f"/api/analyses/{analysis_id}/results"
    expected = sales_customers()
    totals, items = all_pages(client, alice, path, 3)
    assert set(totals) == {len(expected)}  # also on the empty page past the end
    assert sorted(row["customer_id"] for row in items) == sorted(expected)
    with other_worker.connect() as conn:
        stored = conn.execute(select(func.count()).where(rfm_rows.c.analysis_id == analysis_id)).scalar_one()
    assert stored == len(expected)
    for segment in {row["segment"] for row in items}:
        want = sorted(row["customer_id"] for row in items if row["segment"] == segment)
        totals, got = all_pages(client, alice, f"{path}?segment={segment}", 1)
        assert set(totals) == {len(want)} and sorted(row["customer_id"] for row in got) == want
    for cluster in (0, 1):
        want = [row for row in items if row["cluster"] == cluster]
        totals, got = all_pages(client, alice, f"{path}?cluster={cluster}&sort=customer_id", 2)
        assert set(totals) == {len(want)}
        assert got == sorted(want, key=lambda row: row["customer_id"])
    nobody = client.get(f"{path}?segment=no such segment", headers=alice.headers).json
    assert (nobody["total"], nobody["items"]) == (0, [])
    far = client.get(f"{path}?segment={items[0]['segment']}&page=99", headers=alice.headers).json
    assert far["items"] == [] and far["total"] == sum(row["segment"] == items[0]["segment"] for row in items)


def test_result_pages_cost_three_statements(app, client, alice):
    analysis_id = finished(client, alice, "rfm", n_clusters=2)
    for query in ("", "?segment=Champions", "?cluster=1&sort=monetary&order=desc"):
        with counted_statements(app) as seen:
            response = client.get(f"/api/analyses/{analysis_id}/results{query}", headers=alice.headers)
        assert response.status_code == 200, response.json
        assert len(seen) == 3, query  # token user, analysis, page (the count rides along)


def test_basket_pages_have_exact_totals_unfiltered_and_filtered(client, alice, other_worker):
    analysis_id = finished(client, alice, "basket", min_support=0.1, min_confidence=0.1, min_lift=0)
    path = f"/api/analyses/{analysis_id}/results"
    with other_worker.connect() as conn:
        stored = conn.execute(select(basket_rules.c.antecedents, basket_rules.c.consequents)
                              .where(basket_rules.c.analysis_id == analysis_id)).all()
    assert stored
    totals, rules = all_pages(client, alice, path, 2)
    assert set(totals) == {len(stored)} and len(rules) == len(stored)
    for item in ("A", "B", "C"):
        want = [rule for rule in rules if item in rule["antecedents"] + rule["consequents"]]
        totals, got = all_pages(client, alice, f"{path}?item={item}", 1)
        assert set(totals) == {len(want)} and got == want
