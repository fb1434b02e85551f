"""Files API: list, get, delete, search the rows, export them as CSV, retention of raw uploads, counts elsewhere."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from models.tables import files as files_table
from tests.conftest import assert_problem, upload

SALES_CSV = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2011-12-08 09:00:00,2.55,17850,United Kingdom\n"
    "536366,71053,White Metal Lantern,2,2011-12-09 12:50:00,3.39,17850,United Kingdom\n"
    "536367,84406B,CREAM CUPID HEARTS COAT HANGER,8,2011-12-09 23:59:00,2.75,13047,France\n"
    "536368,22633,HAND WARMER UNION JACK,-3,2011-12-10 00:00:00,1.85,12583,france\n"
    "536369,21730,=1+2,1,2011-12-10 08:00:00,4.25,,Germany\n"
    "536370,22752,+44 20 7946 0000,1,2011-12-11 10:00:00,7.65,12583,Germany\n"
    "536371,21754,@SUM(A1:A9),4,2011-12-12 11:00:00,-1.5,13047,Spain\n"
    "536372,21755,-2+3,5,2011-12-13 12:00:00,0.85,17850,Spain\n"
)
NO_CUSTOMER_CSV = "InvoiceNo,Quantity,UnitPrice\n1,2,3.5\n2,3,4.5\n"




def search(client, account, file_id: int, **query):
    return client.get(f"/api/files/{file_id}/transactions", headers=account.headers, query_string=query)


def invoices(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [row["InvoiceNo"] for row in response.json["items"]]


def export(client, account, **query):
    return client.get("/api/export/csv", headers=account.headers, query_string=query)


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def listing(client, account, **query):
    return client.get("/api/files", headers=account.headers, query_string=query)


@pytest.fixture
def alice(auth):
    return auth.register("alice")


@pytest.fixture
def bob(auth):
    return auth.register("bob")


@pytest.fixture
def sales(seed_file, alice) -> dict:
    return seed_file(alice, SALES_CSV)


def file_folder(app, account, file_id: int):
    """The one stored folder of a user's only upload (the API never tells where it is)."""
    folders = [p for p in (app.config["UPLOAD_DIR"] / f"user_{account.user_id}").iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


# --- list ---------------------------------------------------------------------------------------------------------

@pytest.fixture
def three_files(seed_file, alice) -> list[dict]:
    """b.csv: 8 rows (biggest), a.csv: 2 rows, c.csv: 3 rows (smallest in bytes)."""
    return [
        seed_file(alice, SALES_CSV, "b.csv"),
        seed_file(alice, "InvoiceNo,Quantity,UnitPrice,Description\n1,2,3.5,long text here\n"
                         "2,3,4.5,more long text here\n", "a.csv"),
        seed_file(alice, "InvoiceNo,Quantity\n1,2\n2,3\n3,4\n", "c.csv"),
    ]


def test_list_is_paginated(client, alice, three_files):
    first = listing(client, alice, per_page=2)
    assert first.status_code == 200
    assert first.json["total"] == 3
    assert first.json["page"] == 1
    assert first.json["per_page"] == 2
    assert [item["file_id"] for item in first.json["items"]] == [f["file_id"] for f in three_files[:2]]
    second = listing(client, alice, per_page=2, page=2).json
    assert [item["file_id"] for item in second["items"]] == [three_files[2]["file_id"]]
    assert listing(client, alice, per_page=2, page=3).json["items"] == []
    item = first.json["items"][0]
    assert "preview" not in item
    assert item["filename"] == "b.csv"
    assert item["rows"] == 8
    assert item["upload_id"] == item["file_id"]
    assert item["roles"]["customer"] == "CustomerID"
    assert item["raw_available"] is True


@pytest.mark.parametrize(("sort", "order", "expected"), [
    ("filename", "asc", ["a.csv", "b.csv", "c.csv"]),
    ("filename", "desc", ["c.csv", "b.csv", "a.csv"]),
    ("rows", "asc", ["a.csv", "c.csv", "b.csv"]),
    ("rows", "desc", ["b.csv", "c.csv", "a.csv"]),
    ("size", "asc", ["c.csv", "a.csv", "b.csv"]),
    ("size", "desc", ["b.csv", "a.csv", "c.csv"]),
    ("id", "asc", ["b.csv", "a.csv", "c.csv"]),
    ("id", "desc", ["c.csv", "a.csv", "b.csv"]),
    ("created_at", "asc", ["b.csv", "a.csv", "c.csv"]),
])
def test_list_sorts(client, alice, three_files, sort, order, expected):
    response = listing(client, alice, sort=sort, order=order)
    assert response.status_code == 200, response.json
    assert [item["filename"] for item in response.json["items"]] == expected


@pytest.mark.parametrize("query", [
    {"per_page": 501}, {"per_page": 0}, {"page": 0}, {"page": "x"}, {"sort": "owner_id"}, {"sort": "preview"},
    {"order": "sideways"},
])
def test_list_rejects_bad_paging(client, alice, query):
    body = assert_problem(listing(client, alice, **query), 422)
    assert body["errors"][0]["field"] in query


def test_list_accepts_the_largest_page_and_shows_only_own_files(client, alice, bob, three_files):
    assert listing(client, alice, per_page=500).json["total"] == 3
    assert listing(client, bob, per_page=500).json == {"total": 0, "page": 1, "per_page": 500, "items": []}
    assert_problem(client.get("/api/files"), 401)


# --- get, ownership, delete ---------------------------------------------------------------------------------------

def test_get_includes_the_preview_and_metadata(client, alice, sales):
    response = client.get(f"/api/files/{sales['file_id']}", headers=alice.headers)
    assert response.status_code == 200
    body = response.json
    assert body["preview"] == sales["preview"]
    assert len(body["preview"]) == 5
    assert body["preview"][0]["Description"] == "WHITE HANGING HEART T-LIGHT HOLDER"
    for key in ("file_id", "upload_id", "filename", "size", "rows", "columns", "roles", "layout", "warnings"):
        assert body[key] == sales[key]
    assert "message" not in body


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/files/{id}"),
    ("delete", "/api/files/{id}"),
    ("get", "/api/files/{id}/transactions"),
    ("get", "/api/export/csv?file_id={id}"),
])
def test_another_users_file_is_404(client, alice, bob, sales, method, path):
    url = path.format(id=sales["file_id"])
    assert_problem(getattr(client, method)(url, headers=bob.headers), 404)
    missing = path.format(id=sales["file_id"] + 1000)
    assert_problem(getattr(client, method)(missing, headers=alice.headers), 404)
    huge = path.format(id=2**63)
    assert getattr(client, method)(huge, headers=alice.headers).status_code in (404, 422)
    # bob's attempt changed nothing
    assert client.get(f"/api/files/{sales['file_id']}", headers=alice.headers).status_code == 200
    assert search(client, alice, sales["file_id"]).json["total"] == 8


def test_delete_removes_the_row_and_the_folder(app, client, alice, sales):
    folder = file_folder(app, alice, sales["file_id"])
    assert sorted(p.name for p in folder.iterdir()) == ["data.parquet", "original.csv"]
    other = upload(client, alice, NO_CUSTOMER_CSV, "other.csv")
    response = client.delete(f"/api/files/{sales['file_id']}", headers=alice.headers)
    assert response.status_code == 200
    assert response.json == {"message": "file deleted"}
    assert not folder.exists()
    assert_problem(client.get(f"/api/files/{sales['file_id']}", headers=alice.headers), 404)
    assert_problem(client.delete(f"/api/files/{sales['file_id']}", headers=alice.headers), 404)
    assert_problem(search(client, alice, sales["file_id"]), 404)
    listed = listing(client, alice).json
    assert listed["total"] == 1
    assert listed["items"][0]["file_id"] == other["file_id"]
    assert file_folder(app, alice, other["file_id"]).exists()


# --- transactions search ------------------------------------------------------------------------------------------

def test_transactions_without_filters_pages_through_every_row(client, alice, sales):
    response = search(client, alice, sales["file_id"])
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 8
    assert body["columns"] == ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
                               "CustomerID", "Country"]
    assert body["items"][3] == {
        "InvoiceNo": "536368", "StockCode": "22633", "Description": "HAND WARMER UNION JACK", "Quantity": -3,
        "InvoiceDate": "2011-12-10T00:00:00", "UnitPrice": 1.85, "CustomerID": "12583", "Country": "france",
    }
    assert body["items"][4]["CustomerID"] is None
    page3 = search(client, alice, sales["file_id"], per_page=3, page=3).json
    assert (page3["total"], page3["page"], page3["per_page"]) == (8, 3, 3)
    assert [row["InvoiceNo"] for row in page3["items"]] == ["536371", "536372"]
    assert search(client, alice, sales["file_id"], per_page=3, page=4).json["items"] == []


@pytest.mark.parametrize(("query", "expected"), [
    ({"q": "heart"}, ["536365", "536367"]),
    ({"q": "HeArTs"}, ["536367"]),
    ({"q": "lantern"}, ["536366"]),
    ({"q": "84406b"}, ["536367"]),
    ({"q": "nothing like this"}, []),
    ({"customer": "17850"}, ["536365", "536366", "536372"]),
    ({"customer": "1785"}, []),
    ({"customer": " 12583 "}, ["536368", "536370"]),
    ({"country": "FRANCE"}, ["536367", "536368"]),
    ({"country": "united kingdom"}, ["536365", "536366"]),
    ({"country": "King"}, []),
    ({"date_from": "2011-12-09"}, ["536366", "536367", "536368", "536369", "536370", "536371", "536372"]),
    ({"date_from": "2011-12-09T12:50:00"}, ["536366", "536367", "536368", "536369", "536370", "536371", "536372"]),
    ({"date_to": "2011-12-09"}, ["536365", "536366", "536367"]),
    ({"date_to": "2011-12-09T12:50:00"}, ["536365", "536366"]),
    ({"date_from": "2011-12-09", "date_to": "2011-12-09"}, ["536366", "536367"]),
    ({"date_from": "2011-12-10", "date_to": "2011-12-11"}, ["536368", "536369", "536370"]),
    ({"date_from": "2011-12-12", "date_to": "2011-12-10"}, []),
    ({"q": "h", "country": "germany"}, []),
    ({"customer": "12583", "date_from": "2011-12-11"}, ["536370"]),
    ({"q": "e", "customer": "17850", "date_to": "2011-12-09"}, ["536365", "536366"]),
])
def test_transactions_filters(client, alice, sales, query, expected):
    response = search(client, alice, sales["file_id"], **query)
    assert invoices(response) == expected
    assert response.json["total"] == len(expected)


@pytest.mark.parametrize(("sort", "order", "expected_first"), [
    ("Quantity", "desc", ["536367", "536365", "536372"]),
    ("Quantity", "asc", ["536368", "536369", "536370"]),
    ("UnitPrice", "asc", ["536371", "536372", "536368"]),
    ("InvoiceDate", "desc", ["536372", "536371", "536370"]),
    ("Description", "asc", ["536370", "536372", "536369"]),
])
def test_transactions_sort_by_a_column(client, alice, sales, sort, order, expected_first):
    response = search(client, alice, sales["file_id"], sort=sort, order=order, per_page=3)
    assert invoices(response) == expected_first
    assert response.json["total"] == 8


def test_transactions_sort_puts_missing_values_last(client, alice, sales):
    for order in ("asc", "desc"):
        rows = search(client, alice, sales["file_id"], sort="CustomerID", order=order).json["items"]
        assert rows[-1]["InvoiceNo"] == "536369"
        assert rows[-1]["CustomerID"] is None


@pytest.mark.parametrize(("query", "field"), [
    ({"sort": "Price"}, "sort"),
    ({"sort": "quantity"}, "sort"),
    ({"date_from": "yesterday"}, "date_from"),
    ({"date_to": "2011-13-45"}, "date_to"),
    ({"date_to": "31/12/2011x"}, "date_to"),
    ({"per_page": 501}, "per_page"),
    ({"page": 0}, "page"),
    ({"order": "up"}, "order"),
])
def test_transactions_rejects_bad_parameters(client, alice, sales, query, field):
    assert_problem(search(client, alice, sales["file_id"], **query), 422, field)


def test_customer_filter_on_a_file_without_a_customer_role_is_a_422_naming_the_role(client, alice):
    plain = upload(client, alice, NO_CUSTOMER_CSV, "plain.csv")
    assert "customer" not in plain["roles"]
    body = assert_problem(search(client, alice, plain["file_id"], customer="17850"), 422, "columns.customer")
    assert "customer" in body["detail"]
    assert_problem(search(client, alice, plain["file_id"], country="France"), 422, "columns.country")
    assert_problem(search(client, alice, plain["file_id"], date_from="2011-01-01"), 422, "columns.date")
    assert_problem(export(client, alice, file_id=plain["file_id"], customer="17850"), 422, "columns.customer")
    assert search(client, alice, plain["file_id"], q="4.5").json["total"] == 0  # numbers are not text
    assert search(client, alice, plain["file_id"]).json["total"] == 2


# --- CSV export ---------------------------------------------------------------------------------------------------

def test_export_is_an_attachment_with_the_searched_rows(client, alice, sales):
    response = export(client, alice, file_id=sales["file_id"], country="germany")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "sales-transactions.csv" in disposition
    rows = csv_rows(response)
    assert [row["InvoiceNo"] for row in rows] == invoices(search(client, alice, sales["file_id"], country="germany"))
    assert list(rows[0]) == ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
                             "CustomerID", "Country"]
    assert rows[0]["InvoiceDate"] == "2011-12-10T08:00:00"


@pytest.mark.parametrize("query", [
    {}, {"q": "heart"}, {"customer": "17850"}, {"country": "FRANCE"},
    {"date_from": "2011-12-09", "date_to": "2011-12-10"}, {"q": "a", "date_to": "2011-12-11"},
])
def test_export_has_the_same_rows_as_the_search(client, alice, sales, query):
    searched = search(client, alice, sales["file_id"], per_page=500, **query).json["items"]
    exported = csv_rows(export(client, alice, file_id=sales["file_id"], **query))
    assert [row["InvoiceNo"] for row in exported] == [row["InvoiceNo"] for row in searched]
    assert [row["CustomerID"] for row in exported] == [row["CustomerID"] or "" for row in searched]
    assert [float(row["UnitPrice"]) for row in exported] == [row["UnitPrice"] for row in searched]


def test_export_neutralises_formulas_but_keeps_negative_numbers(client, alice, sales):
    rows = {row["InvoiceNo"]: row for row in csv_rows(export(client, alice, file_id=sales["file_id"]))}
    assert rows["536369"]["Description"] == "'=1+2"
    assert rows["536370"]["Description"] == "'+44 20 7946 0000"
    assert rows["536371"]["Description"] == "'@SUM(A1:A9)"
    assert rows["536372"]["Description"] == "'-2+3"
    assert rows["536368"]["Quantity"] == "-3"
    assert rows["536371"]["UnitPrice"] == "-1.5"
    assert rows["536365"]["Description"] == "WHITE HANGING HEART T-LIGHT HOLDER"
    # the stored data itself is unchanged
    searched = search(client, alice, sales["file_id"], q="=1+2").json["items"]
    assert searched[0]["Description"] == "=1+2"


def test_export_parameters_are_validated(client, alice, sales):
    assert_problem(client.get("/api/export/csv", headers=alice.headers), 422, "file_id")
    assert_problem(export(client, alice, file_id="abc"), 422, "file_id")
    assert_problem(export(client, alice, file_id=sales["file_id"], date_from="soon"), 422, "date_from")
    assert_problem(client.get(f"/api/export/csv?file_id={sales['file_id']}"), 401)


# --- retention ----------------------------------------------------------------------------------------------------

def expire(app, file_id: int) -> None:
    with app.extensions["db_engine"].begin() as conn:
        conn.execute(update(files_table).where(files_table.c.id == file_id)
                     .values(raw_expires_at=datetime(2000, 1, 1)))


def test_raw_expires_after_the_configured_retention(app, client, alice, sales):
    body = client.get(f"/api/files/{sales['file_id']}", headers=alice.headers).json
    created = datetime.fromisoformat(body["created_at"])
    expires = datetime.fromisoformat(body["raw_expires_at"])
    assert expires - created == timedelta(minutes=app.config["RAW_RETENTION_MINUTES"])
    assert body["raw_available"] is True
    assert app.extensions["services"].files.purge_expired_originals() == 0


def test_purge_deletes_only_expired_originals_and_keeps_the_data(app, client, alice, bob, services, sales):
    kept = upload(client, bob, SALES_CSV, "kept.csv")
    expire(app, sales["file_id"])
    folder = file_folder(app, alice, sales["file_id"])
    assert services.files.purge_expired_originals() == 1
    assert sorted(p.name for p in folder.iterdir()) == ["data.parquet"]
    body = client.get(f"/api/files/{sales['file_id']}", headers=alice.headers).json
    assert body["raw_available"] is False
    assert body["preview"] == sales["preview"]
    assert body["rows"] == 8
    assert search(client, alice, sales["file_id"]).json["total"] == 8
    assert invoices(search(client, alice, sales["file_id"], country="france")) == ["536367", "536368"]
    assert len(csv_rows(export(client, alice, file_id=sales["file_id"]))) == 8
    # the other file is untouched, and a second sweep finds nothing
    assert client.get(f"/api/files/{kept['file_id']}", headers=bob.headers).json["raw_available"] is True
    assert sorted(p.name for p in file_folder(app, bob, kept["file_id"]).iterdir()) == [
        "data.parquet", "original.csv"]
    assert services.files.purge_expired_originals() == 0
    # a purged file can still be deleted
    assert client.delete(f"/api/files/{sales['file_id']}", headers=alice.headers).status_code == 200
    assert not folder.exists()


def test_flask_cleanup_reports_how_many_were_removed(app, client, alice, sales):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["cleanup"])
    assert result.exit_code == 0, result.output
    assert "removed 0 raw upload(s)" in result.output
    second = upload(client, alice, NO_CUSTOMER_CSV, "second.csv")
    expire(app, sales["file_id"])
    expire(app, second["file_id"])
    result = runner.invoke(args=["cleanup"])
    assert result.exit_code == 0, result.output
    assert "removed 2 raw upload(s)" in result.output
    assert all(item["raw_available"] is False for item in listing(client, alice).json["items"])
    assert list(app.config["UPLOAD_DIR"].rglob("original.*")) == []
    assert "removed 0 raw upload(s)" in runner.invoke(args=["cleanup"]).output


# --- counts and account deletion ----------------------------------------------------------------------------------

def test_profile_counts_the_users_files(client, alice, bob):
    assert client.get("/api/user/profile", headers=alice.headers).json["files"] == 0
    first = upload(client, alice, SALES_CSV)
    upload(client, alice, NO_CUSTOMER_CSV, "second.csv")
    upload(client, bob, NO_CUSTOMER_CSV, "bobs.csv")
    assert client.get("/api/user/profile", headers=alice.headers).json["files"] == 2
    assert client.get("/api/user/profile", headers=bob.headers).json["files"] == 1
    client.delete(f"/api/files/{first['file_id']}", headers=alice.headers)
    assert client.get("/api/user/profile", headers=alice.headers).json["files"] == 1


def test_deleting_the_account_removes_the_users_files(app, client, auth, alice, bob):
    admin = auth.admin()
    upload(client, alice, SALES_CSV)
    upload(client, alice, NO_CUSTOMER_CSV, "second.csv")
    bobs = upload(client, bob, SALES_CSV, "bobs.csv")
    assert client.get("/api/admin/stats", headers=admin.headers).json["files"] == 3
    alice_folder = app.config["UPLOAD_DIR"] / f"user_{alice.user_id}"
    assert len(list(alice_folder.iterdir())) == 2
    assert client.delete("/api/user/profile", headers=alice.headers).status_code == 200
    assert not alice_folder.exists()
    assert client.get("/api/admin/stats", headers=admin.headers).json["files"] == 1
    assert search(client, bob, bobs["file_id"]).json["total"] == 8
    assert file_folder(app, bob, bobs["file_id"]).exists()


def test_admin_deleting_a_user_removes_their_files_and_stats_count_files(app, client, auth, alice, bob):
    admin = auth.admin()
    assert client.get("/api/admin/stats", headers=admin.headers).json["files"] == 0
    upload(client, alice, SALES_CSV)
    upload(client, bob, SALES_CSV)
    upload(client, bob, NO_CUSTOMER_CSV, "second.csv")
    assert client.get("/api/admin/stats", headers=admin.headers).json["files"] == 3
    assert client.delete(f"/api/admin/users/{bob.user_id}", headers=admin.headers).status_code == 200
    assert not (app.config["UPLOAD_DIR"] / f"user_{bob.user_id}").exists()
    assert client.get("/api/admin/stats", headers=admin.headers).json["files"] == 1
    assert listing(client, alice).json["total"] == 1


# Regression: on 6915ad9 a basic-format date_to was taken as midnight, dropping the rest of that day.
def test_bare_date_to_in_basic_format_includes_the_whole_day(client, alice, sales):
    extended = invoices(search(client, alice, sales["file_id"], date_to="2011-12-09"))
    assert extended == ["536365", "536366", "536367"]
    assert invoices(search(client, alice, sales["file_id"], date_to="20111209")) == extended
