"""Public exports from other shops (../shared/data/public), uploaded with no hints and analysed with the defaults.

Every expected figure is worked out here from the raw file with pandas (and pyfim for rules), the way a careful
analyst would: cancelled orders out, placeholders are not items, every sheet of a yearly workbook counted.
"""
from __future__ import annotations

import itertools
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import PUBLIC_DATA, shared_file, upload
from tests.conftest import summary_of as summary

PLACEHOLDERS = {"none", "n/a", "na", "null", "nan", "-", "?", ""}
CANCELLED_WORDS = {"cancelled", "canceled", "refunded", "returned"}


@pytest.fixture
def alice(auth):
    return auth.register("alice")


def public(name: str) -> Path:
    return shared_file(PUBLIC_DATA / name)




def money(values) -> float:
    """Line amounts summed exactly in 1/10000ths and rounded half up to the cent, as the API promises."""
    total = sum((Decimal(repr(float(v))).quantize(Decimal("0.0001"), ROUND_HALF_UP) for v in values), Decimal(0))
    return float(total.quantize(Decimal("0.01"), ROUND_HALF_UP))


def default_rules(frame: pd.DataFrame, item: str, qty: str, price: str | None, cancelled: pd.Series) -> pd.DataFrame:
    """The analyst's cleaning for revenue figures: no item, cancelled, quantity or price not positive, exact copies."""
    drop = frame[item].isna() | cancelled | (frame[qty] <= 0) | frame.duplicated(keep="first")
    if price is not None:
        drop |= frame[price] <= 0
    return frame[~drop]


# --- Tableau Superstore (.xls, order ids like CA-2016-152156) -----------------------------------------------------

# The oracle reads the .xls through pandas' xlrd engine, a different path from our reader; pandas only warns
# that the engine will go.
@pytest.mark.filterwarnings("ignore:The xlrd engine is deprecated")
def test_superstore_gives_the_full_revenue_orders_and_customers(client, alice):
    path = public("Sample - Superstore.xls")
    sheets = pd.read_excel(path, sheet_name=None, engine="xlrd")
    orders = sheets["Orders"]
    body = upload(client, alice, path)
    assert body["sheets"] == [{"name": name, "rows": len(frame)} for name, frame in sheets.items()]
    assert body["rows"] == len(orders)
    assert body["column_types"]["Profit"] == body["column_types"]["Discount"] == "number"
    assert body["preview"][0]["Postal Code"] == str(int(orders["Postal Code"].iloc[0]))
    assert body["roles"]["invoice"] == "Order ID"

    expected_revenue = money(orders["Sales"])
    assert expected_revenue == 2_297_200.86  # the figure the issue gives, computed here from the raw sheet
    kpis = summary(client, alice, body["file_id"], "statistical")["kpis"]
    assert (kpis["total_revenue"], kpis["total_orders"], kpis["unique_customers"]) == (
        expected_revenue, orders["Order ID"].nunique(), orders["Customer ID"].nunique())
    assert (orders["Order ID"].nunique(), orders["Customer ID"].nunique()) == (5009, 793)

    described = summary(client, alice, body["file_id"], "statistical")["describe"]
    for column in ("Profit", "Discount"):
        assert described[column]["count"] == orders[column].count()
        assert described[column]["max"] == pytest.approx(orders[column].max())
    top = client.get(f"/api/files/{body['file_id']}/transactions?sort=Profit&order=desc&per_page=1",
                     headers=alice.headers).json["items"][0]
    assert top["Profit"] == pytest.approx(orders["Profit"].max())
    rfm = summary(client, alice, body["file_id"], "rfm")
    assert rfm["total_customers"] == orders["Customer ID"].nunique()
    assert rfm["cleaning"]["removed"]["cancellations"] == 0


# --- Kaggle Sample Sales Data (cp1252, STATUS, CUSTOMERNAME, QUANTITYORDERED) -------------------------------------

def test_sample_sales_drops_cancelled_orders_and_reports_statuses(client, alice):
    path = public("sales_data_sample.csv")
    raw = pd.read_csv(path, encoding="cp1252")
    body = upload(client, alice, path)
    assert (body["roles"]["customer"], body["roles"]["quantity"], body["roles"]["status"]) == (
        "CUSTOMERNAME", "QUANTITYORDERED", "STATUS")
    cancelled = raw["STATUS"].str.strip().str.lower().isin(CANCELLED_WORDS)
    kept = default_rules(raw, "PRODUCTCODE", "QUANTITYORDERED", "PRICEEACH", cancelled)
    result = summary(client, alice, body["file_id"], "statistical")
    assert result["kpis"]["total_revenue"] == money(kept["SALES"])
    assert result["kpis"]["total_orders"] == kept["ORDERNUMBER"].nunique()
    assert result["kpis"]["unique_customers"] == kept["CUSTOMERNAME"].nunique()
    assert result["cleaning"]["removed"]["excluded_statuses"] == int(cancelled.sum())
    reported = {entry["status"]: entry["rows"] for entry in result["cleaning"]["statuses"]}
    assert reported == raw["STATUS"].value_counts().to_dict()
    assert money(raw.loc[cancelled, "SALES"]) == 194_487.48  # the figure, from the raw file

    rfm = summary(client, alice, body["file_id"], "rfm")
    assert rfm["total_customers"] == kept["CUSTOMERNAME"].nunique()
    # exclude_statuses replaces the default list
    chosen = ["Disputed", "On Hold"]
    other = summary(client, alice, body["file_id"], "statistical", cleaning={"exclude_statuses": chosen})
    assert other["kpis"]["total_revenue"] == money(
        default_rules(raw, "PRODUCTCODE", "QUANTITYORDERED", "PRICEEACH", raw["STATUS"].isin(chosen))["SALES"])


# --- BreadBasket (Date + Time columns, NONE placeholders) --------------------------------------------------------

def test_breadbasket_rules_match_pyfim_without_the_none_placeholder(client, alice):
    fim = pytest.importorskip("fim")
    path = public("BreadBasket_DMS.csv")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    body = upload(client, alice, path)
    assert body["preview"][0]["Date"] == f"{raw['Date'][0]}T{raw['Time'][0]}"  # the time of day folded in
    real = raw[~raw["Item"].str.strip().str.casefold().isin(PLACEHOLDERS)]
    baskets = [sorted(set(items)) for _, items in real.groupby("Transaction")["Item"]]
    result = summary(client, alice, body["file_id"], "basket")
    assert result["transactions"] == len(baskets)
    assert result["items"] == real["Item"].nunique()
    min_count = -(-len(baskets) // 100)  # default min_support 0.01, as a count rounded up
    found = fim.arules(baskets, supp=-min_count, conf=20, zmin=2, report="abcl", mode="o")
    expected = {(tuple(sorted(body_)), head) for head, body_, _both, _b, _conf, lift in found if lift >= 1}
    rules = client.get(f"/api/analyses/{result_id(client, alice, body['file_id'])}/results?per_page=500",
                       headers=alice.headers).json["items"]
    assert {(tuple(sorted(rule["antecedents"])), rule["consequents"][0]) for rule in rules} == expected
    assert expected and not any("NONE" in (*key[0], key[1]) for key in expected)


def result_id(client, account, file_id: int) -> int:
    """The newest basket analysis of the file."""
    listed = client.get(f"/api/analyses?file_id={file_id}&type=basket&sort=id&order=desc", headers=account.headers)
    return max(item["analysis_id"] for item in listed.json["items"])


# --- UCI Online Retail II (one sheet per year) --------------------------------------------------------------------

def test_online_retail_ii_reads_every_year_sheet(client, alice):
    path = public("online_retail_II.xlsx")
    sheets = pd.read_excel(path, sheet_name=None, dtype={"Invoice": str, "StockCode": str}, engine="openpyxl")
    raw = pd.concat(sheets.values(), ignore_index=True)
    body = upload(client, alice, path)
    assert body["rows"] == len(raw)
    assert body["sheets"] == [{"name": name, "rows": len(frame)} for name, frame in sheets.items()]
    assert any(all(name in warning for name in sheets) for warning in body["warnings"])
    invoice = raw["Invoice"].astype(str)
    cancelled = invoice.str.fullmatch(r"C\d+") | (raw["Quantity"] < 0)
    description = raw["Description"].where(~raw["Description"].astype(str).str.strip().str.casefold()
                                            .isin(PLACEHOLDERS))
    raw = raw.assign(item=raw["StockCode"].where(raw["StockCode"].notna(), description))
    kept = default_rules(raw, "item", "Quantity", "Price", cancelled)
    kpis = summary(client, alice, body["file_id"], "statistical")["kpis"]
    assert kpis["total_revenue"] == money(kept["Quantity"] * kept["Price"])
    assert kpis["total_orders"] == kept["Invoice"].nunique()
    assert kpis["unique_customers"] == kept["Customer ID"].nunique()
    one = upload(client, alice, path, sheet=list(sheets)[1])
    assert one["rows"] == len(list(sheets.values())[1])


# --- Maven Pizza Place (date + time) -------------------------------------------------------------------------------

def test_pizza_sales_by_hour_from_the_separate_time_column(client, alice):
    path = public("pizza_transactions.csv")
    raw = pd.read_csv(path)
    body = upload(client, alice, path)
    assert body["roles"]["item"] == "pizza_id"
    result = summary(client, alice, body["file_id"], "statistical")
    assert result["kpis"]["total_revenue"] == money(raw["quantity"] * raw["price"])
    assert result["kpis"]["total_orders"] == raw["order_id"].nunique()
    hours = pd.to_datetime(raw["time"], format="%H:%M:%S").dt.hour
    orders_by_hour = raw.groupby(hours)["order_id"].nunique()
    ours = {row["hour"]: row["orders"] for row in result["by_hour"] if row["orders"]}
    assert ours == orders_by_hour.to_dict()
    top = (raw["quantity"] * raw["price"]).groupby(raw["pizza_id"]).sum().idxmax()
    assert result["top_products"][0]["label"] == top


# --- the UCI Online Retail sample: 0 rules with the defaults, and a support that finds some ----------------------

def test_online_retail_sample_explains_its_empty_rule_set(client, alice, sample_file):
    body = upload(client, alice, sample_file)
    result = summary(client, alice, body["file_id"], "basket")
    assert result["rules"] == 0
    raw = pd.read_excel(sample_file, dtype={"InvoiceNo": str, "StockCode": str}, engine="openpyxl")
    kept = raw[~raw["InvoiceNo"].str.startswith("C") & (raw["Quantity"] > 0) & (raw["UnitPrice"] > 0)
               & raw["Description"].notna() & ~raw.duplicated()]
    baskets = kept.groupby("InvoiceNo")["Description"].apply(lambda items: sorted(set(items)))
    pairs = Counter(pair for items in baskets for pair in itertools.combinations(items, 2))
    (top_pair, top_count), = pairs.most_common(1)
    assert result["no_rules"]["top_pair"]["count"] == top_count
    assert result["no_rules"]["top_pair"]["support"] == round(top_count / len(baskets), 6)
    suggested = result["no_rules"]["suggested_min_support"]
    assert 0 < suggested < 0.01
    assert summary(client, alice, body["file_id"], "basket", min_support=suggested)["rules"] > 0


# --- CDNOW 1/10 sample (no header, space-aligned: id, index, yyyymmdd, CDs, dollars) -----------------------------

def test_cdnow_without_a_header_gives_exact_rfm(client, alice):
    path = public("cdnow_sample.txt")
    raw = pd.read_csv(path, sep=r"\s+", header=None, names=["id", "index", "date", "cds", "dollars"],
                      dtype={"id": str})
    body = upload(client, alice, path)
    assert body["rows"] == len(raw)
    assert body["roles"] == {"customer": "column_1", "date": "column_3", "quantity": "column_4",
                             "amount": "column_5"}
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    kept = raw[(raw["cds"] > 0) & (raw["dollars"] > 0) & ~raw.duplicated()]
    as_of = kept["date"].max() + pd.Timedelta(days=1)
    expected = kept.groupby("id").agg(frequency=("date", "size"), last=("date", "max"),
                                      monetary=("dollars", money))
    result = summary(client, alice, body["file_id"], "rfm")
    assert result["total_customers"] == len(expected)
    listed = client.get(f"/api/rfm/results/{body['file_id']}", headers=alice.headers).json
    ours = {row["customer_id"]: (row["frequency"], row["recency"], float(row["monetary"])) for row in listed}
    assert ours == {customer: (int(row.frequency), (as_of - row.last).days, row.monetary)
                    for customer, row in expected.iterrows()}
