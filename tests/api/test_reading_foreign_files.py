"""Issue 7's defects on small hand-written files: each of these read another shop's export wrongly before."""
from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from app import create_app
from config import load_config
from services.analysis.basket import BasketParams
from services.ingest.columns import as_id_text, type_columns
from services.ingest.roles import detect_roles
from tests.conftest import assert_problem, post_upload, upload
from tests.conftest import summary_of as summary
from tests.unit.test_basket import mine_baskets


@pytest.fixture
def alice(auth):
    return auth.register("alice")






# 1. cancellations come from evidence, not from a letter ------------------------------------------------------

def test_order_ids_that_start_with_c_are_not_cancellations(client, alice):
    body = upload(client, alice, "Order ID,Customer ID,Order Date,Product Name,Sales,Quantity\n"
                                   "CA-2016-1,C1,2016-01-05,Stapler,10.00,1\nUS-2016-2,C2,2016-01-06,Pen,5.00,1\n")
    result = summary(client, alice, body["file_id"], "statistical")
    assert result["kpis"]["total_revenue"] == 15.0
    assert result["cleaning"]["removed"]["cancellations"] == 0
    assert result["cleaning"]["cancellation_evidence"] == {}


def test_c_plus_an_invoice_number_and_negative_amounts_are_cancellations(client, alice):
    body = upload(client, alice, "InvoiceNo,CustomerID,InvoiceDate,Description,Quantity,UnitPrice\n"
                                   "536365,c1,2011-01-03,Cup,2,1.50\nC536366,c1,2011-01-04,Cup,1,1.50\n"
                                   "536367,c2,2011-01-05,Jug,-1,3.00\n536368,c2,2011-01-06,Jug,1,3.00\n")
    cleaning = summary(client, alice, body["file_id"], "cleaning")
    assert cleaning["removed"]["cancellations"] == 2
    assert cleaning["cancellation_evidence"] == {"C + invoice number": 1, "negative quantity": 1}
    refunds = upload(client, alice, "Order,Customer,Date,Item,Total\n1,a,2020-01-01,Tea,5\n2,a,2020-01-02,Tea,-5\n"
                                      "3,b,2020-01-03,Cake,4\n")
    cleaning = summary(client, alice, refunds["file_id"], "cleaning")
    assert cleaning["cancellation_evidence"] == {"negative amount": 1}


# 2. a status column ------------------------------------------------------------------------------------------------

STATUSES = ("Shipped", "Cancelled", "Canceled", "Refunded", "Returned", "Annulé", "Storniert", "Cancelado",
            "Dibatalkan", "ยกเลิก", "On Hold")


def test_cancelled_refunded_and_returned_statuses_are_dropped_in_any_language(client, alice):
    lines = [f"{n},c{n},2020-01-{n + 1:02d},Tea,{n + 1}.00,{status}" for n, status in enumerate(STATUSES)]
    body = upload(client, alice, "Order ID,Customer,Date,Item,Sales,Status\n" + "\n".join(lines) + "\n")
    assert body["roles"]["status"] == "Status"
    result = summary(client, alice, body["file_id"], "statistical")
    kept = [n + 1 for n, status in enumerate(STATUSES) if status in ("Shipped", "On Hold")]
    assert result["kpis"]["total_revenue"] == sum(kept)
    assert result["cleaning"]["removed"]["excluded_statuses"] == len(STATUSES) - len(kept)
    assert {e["status"]: e["rows"] for e in result["cleaning"]["statuses"]} == dict.fromkeys(STATUSES, 1)
    only_hold = summary(client, alice, body["file_id"], "statistical", cleaning={"exclude_statuses": ["on hold"]})
    assert only_hold["kpis"]["total_revenue"] == sum(range(1, len(STATUSES) + 1)) - len(STATUSES)
    bad = client.post("/api/process", headers=alice.headers, json={
        "file_id": body["file_id"], "type": "statistical", "params": {"cleaning": {"exclude_statuses": "Cancelled"}}})
    assert_problem(bad, 422, "params.cleaning.exclude_statuses")


# 3. placeholders are missing values, not items ----------------------------------------------------------------------

def test_placeholder_items_are_not_mined():
    assert as_id_text(pd.Series(["NONE", " n/a ", "NA", "null", "nan", "-", "?", "  ", "Tea"], dtype="string")
                      ).tolist() == [pd.NA] * 8 + ["Tea"]


def test_placeholder_items_never_reach_the_rules(client, alice):
    rows = [(b, item) for b in range(1, 41) for item in ("NONE", "Tea" if b % 2 else "Coffee", "Cake")]
    content = "Transaction,Item\n" + "\n".join(f"{b},{item}" for b, item in rows) + "\n"
    body = upload(client, alice, content)
    result = summary(client, alice, body["file_id"], "basket", min_support=0.1)
    assert result["items"] == 3
    rules = client.get(f"/api/analyses?file_id={body['file_id']}", headers=alice.headers).json["items"]
    listed = client.get(f"/api/analyses/{rules[0]['analysis_id']}/results", headers=alice.headers).json["items"]
    assert listed and not any("NONE" in [*r["antecedents"], *r["consequents"]] for r in listed)


# 4. numbers stay numbers, codes lose Excel's .0, describe covers every numeric column ---------------------------

def test_non_role_numeric_cells_are_numbers_and_codes_are_text():
    frame = pd.DataFrame({"Profit": pd.Series([99.9408, 8399.976, -3.5], dtype=object),
                          "Postal Code": pd.Series([42420.0, 90036.0, "05401"], dtype=object),
                          "Row ID": [1.0, 2.0, 3.0]})
    typed, _ = type_columns(frame, {})
    assert typed["Profit"].dtype == "float64"
    assert typed["Profit"].sort_values().tolist() == [-3.5, 99.9408, 8399.976]
    assert typed["Postal Code"].tolist() == ["42420", "90036", "05401"]
    assert typed["Row ID"].tolist() == ["1", "2", "3"]


def test_describe_covers_every_numeric_column(client, alice):
    content = ("Order,Date,Sales,Profit,Discount\n1,2020-01-01,10,2.5,0.1\n2,2020-01-02,20,-1.5,0\n"
               "3,2020-01-03,5,1,0.2\n")
    body = upload(client, alice, content)
    described = summary(client, alice, body["file_id"], "statistical")["describe"]
    assert described["Profit"]["mean"] == pytest.approx((2.5 - 1.5 + 1) / 3)
    assert described["Discount"]["max"] == 0.2
    assert set(described) == {"amount", "Profit", "Discount"}


# 5. every sheet of a workbook is accounted for ---------------------------------------------------------------------

def test_sheets_with_the_same_header_are_read_together_and_sheet_picks_one(client, alice, tmp_path):
    path = tmp_path / "years.xlsx"
    years = {"2010": pd.DataFrame({"Invoice": ["1", "2"], "Customer ID": ["a", "b"], "Quantity": [1, 2],
                                   "Price": [1.5, 2.0], "InvoiceDate": pd.to_datetime(["2010-01-01", "2010-02-01"])}),
             "2011": pd.DataFrame({"Invoice": ["3"], "Customer ID": ["a"], "Quantity": [4], "Price": [1.0],
                                   "InvoiceDate": pd.to_datetime(["2011-01-01"])}),
             "Notes": pd.DataFrame({"Note": ["made by hand"]})}
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in years.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    body = upload(client, alice, path.read_bytes(), "years.xlsx")
    assert body["rows"] == 3
    assert body["sheets"] == [{"name": name, "rows": len(frame)} for name, frame in years.items()]
    assert any("2010" in w and "2011" in w and "one table" in w for w in body["warnings"])
    kpis = summary(client, alice, body["file_id"], "statistical")["kpis"]
    assert kpis["total_revenue"] == 1.5 + 4.0 + 4.0
    assert upload(client, alice, path.read_bytes(), "years.xlsx", sheet="2011")["rows"] == 1


# 6. a time of day in its own column --------------------------------------------------------------------------------

def test_a_time_column_is_folded_into_the_date(client, alice):
    content = "order_id,date,time,pizza_id,quantity,price\n1,2015-01-01,11:38:36,hawaiian_m,1,13.25\n" \
              "2,2015-01-01,18:57:40,classic_dlx_m,2,16.00\n3,2015-01-02,18:05:00,hawaiian_m,1,13.25\n"
    body = upload(client, alice, content)
    assert body["preview"][0]["date"] == "2015-01-01T11:38:36"
    by_hour = {row["hour"]: row["orders"] for row in summary(client, alice, body["file_id"], "statistical")["by_hour"]
               if row["orders"]}
    assert by_hour == {11: 1, 18: 2}


# 7. headers matched by their words ----------------------------------------------------------------------------------

def test_headers_are_matched_by_their_tokens_and_checked_against_content():
    sample = pd.DataFrame({"ORDERNUMBER": ["1", "2"], "CUSTOMERNAME": ["Land of Toys", "Reims"],
                           "QUANTITYORDERED": ["30", "34"], "PRICEEACH": ["95.7", "81.35"],
                           "Item Qty": ["many", "few"], "OrderQty": ["1", "2"]}, dtype="string")
    roles = detect_roles(sample)
    assert roles["customer"] == "CUSTOMERNAME"
    assert roles["quantity"] == "QUANTITYORDERED"
    assert "Item Qty" not in roles.values()  # words are not quantities
    assert detect_roles(sample.drop(columns=["QUANTITYORDERED"]))["quantity"] == "OrderQty"


# 8. day-first or month-first ---------------------------------------------------------------------------------------

def test_ambiguous_day_month_dates_warn_and_dayfirst_decides(client, alice):
    content = "Invoice,Customer,Date,Item,Amount\n1,a,03/04/2011,Tea,1\n2,b,05/06/2011,Tea,2\n"
    month_first = upload(client, alice, content)
    assert any("Date" in w and "dayfirst" in w for w in month_first["warnings"])
    assert month_first["preview"][0]["Date"] == "2011-03-04T00:00:00"
    day_first = upload(client, alice, content, dayfirst="true")
    assert day_first["preview"][0]["Date"] == "2011-04-03T00:00:00"
    assert not any("dayfirst" in w for w in day_first["warnings"])
    clear = upload(client, alice, content.replace("05/06/2011", "05/26/2011"))
    assert not any("dayfirst" in w for w in clear["warnings"])


# 9. nothing large is removed without a word ---------------------------------------------------------------------------

def test_a_rule_that_removes_much_says_so(client, alice):
    lines = [f"{n},{'' if n % 3 == 0 else 'c' + str(n)},2020-01-01,Tea,1,{n}.00" for n in range(1, 31)]
    body = upload(client, alice, "Invoice,Customer,Date,Item,Quantity,Price\n" + "\n".join(lines) + "\n")
    result = summary(client, alice, body["file_id"], "rfm", n_clusters=2)
    warning, = [w for w in result["warnings"] if w.get("rule") == "missing_customer"]
    removed = [n for n in range(1, 31) if n % 3 == 0]
    assert (warning["removed"], warning["share"]) == (len(removed), round(len(removed) / 30, 4))
    assert warning["revenue_share"] == round(sum(removed) / sum(range(1, 31)), 4)
    assert warning["examples"] == [str(n) for n in removed[:3]]
    assert result["cleaning"]["warnings"] == result["warnings"]
    quiet = upload(client, alice, "Invoice,Customer,Date,Item,Quantity,Price\n" + "\n".join(
        f"{n},c{n},2020-01-01,Tea,1,1.00" for n in range(1, 31)) + "\n")
    assert summary(client, alice, quiet["file_id"], "cleaning")["warnings"] == []


# 10. an empty rule set explains itself ------------------------------------------------------------------------------

def test_no_rules_answer_the_top_pair_and_a_support_that_finds_rules():
    baskets = [["tea", "cake"]] * 3 + [["coffee", "cake"]] * 2 + [[f"item{n}"] for n in range(95)]
    assert mine_baskets(baskets, BasketParams()).no_rules is None  # rules found: nothing to explain
    empty = mine_baskets(baskets, BasketParams(min_support=0.05))
    pairs = Counter(p for b in baskets for p in itertools.combinations(sorted(set(b)), 2))
    (items, count), = pairs.most_common(1)
    assert empty.rules_total == 0
    top = empty.no_rules["top_pair"]
    assert (sorted(top["items"]), top["count"], top["support"]) == (sorted(items), count, count / len(baskets))
    suggested = empty.no_rules["suggested_min_support"]
    assert suggested <= count / len(baskets)
    assert mine_baskets(baskets, BasketParams(min_support=suggested)).rules_total > 0


# 11. the upload limit is the file's size ----------------------------------------------------------------------------

def test_a_file_over_max_upload_mb_is_a_413(database_url, tmp_path, monkeypatch, auth):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "limited"))
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("MAX_UPLOAD_MB", "1")
    application = create_app(load_config("testing"))
    try:
        client = application.test_client()
        account = type(auth)(client, application.extensions["services"]).register("bob")
        header = "Invoice,Customer,Date,Item,Amount\n"
        row = "1,a,2020-01-01,Tea,1\n"
        exact = header + row * ((2**20 - len(header)) // len(row))
        assert len(exact) <= 2**20
        assert post_upload(client, account, exact).status_code == 201
        over = header + row * ((2**20 - len(header)) // len(row) + 4)
        assert len(over) > 2**20
        body = assert_problem(post_upload(client, account, over), 413)
        assert "1 MiB" in body["detail"]
        files = client.get("/api/files", headers=account.headers).json
        assert files["total"] == 1
    finally:
        application.extensions["db_engine"].dispose()


def test_the_request_allowance_for_multipart_framing_does_not_stretch_the_file_limit(client, alice, app):
    limit = app.config["MAX_UPLOAD_MB"] * 2**20
    header = b"Invoice,Customer,Date,Item,Amount\n"
    body = header + b"1,a,2020-01-01,Tea,1\n" * ((limit + 61 - len(header)) // 21 + 1)
    assert limit < len(body) < app.config["MAX_CONTENT_LENGTH"] - 4096
    assert_problem(post_upload(client, alice, body), 413)


def test_upload_limit_error_leaves_nothing_behind(client, alice, app, tmp_path):
    limit = app.config["MAX_UPLOAD_MB"] * 2**20
    post_upload(client, alice, b"a,b\n" + b"1,2\n" * (limit // 4 + 1))
    root = Path(app.config["UPLOAD_DIR"])
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_a_space_aligned_file_without_a_header_is_read_by_content(client, alice):
    content = " 00004 0001 19970101  2   29.33\r\n 00004 0001 19970118  2   29.73\r\n 00112 0002 19970102  1   9.99\r\n"
    body = upload(client, alice, content, "log.txt")
    assert body["columns"] == ["column_1", "column_2", "column_3", "column_4", "column_5"]
    assert body["roles"] == {"customer": "column_1", "date": "column_3", "quantity": "column_4", "amount": "column_5"}
    assert body["preview"][0] == {"column_1": "00004", "column_2": 1, "column_3": "1997-01-01T00:00:00",
                                  "column_4": 2, "column_5": 29.33}
