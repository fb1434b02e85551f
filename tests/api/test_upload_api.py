"""POST /api/upload happy paths: every supported format, encoding, delimiter and header shape, roles and layouts."""
from __future__ import annotations

import gzip
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.conftest import assert_problem, post_upload, upload

ROLE_NAMES = {"invoice", "customer", "item", "description", "quantity", "unit_price", "amount", "date", "country"}






def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def rows_of(client, account, file_id: int, **query) -> list[dict]:
    response = client.get(f"/api/files/{file_id}/transactions", headers=account.headers,
                          query_string={"per_page": 500, **query})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["items"]


@pytest.fixture
def alice(auth):
    return auth.register("alice")


RETAIL_CSV = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n"
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,12583,France\n"
)


# --- the real sample workbook -------------------------------------------------------------------------------------

def test_online_retail_sample_xlsx_is_read_whole_with_every_role(client, alice, sample_file):
    body = upload(client, alice, sample_file)
    assert body["rows"] == 40000
    assert body["layout"] == "transactions"
    assert body["format"] == "xlsx"
    assert body["roles"] == {
        "invoice": "InvoiceNo", "customer": "CustomerID", "item": "StockCode", "description": "Description",
        "quantity": "Quantity", "unit_price": "UnitPrice", "date": "InvoiceDate", "country": "Country",
    }
    assert body["column_types"]["InvoiceDate"] == "datetime"
    assert body["column_types"]["CustomerID"] == "text"
    assert body["column_types"]["Quantity"] == "integer"
    assert body["column_types"]["UnitPrice"] == "number"
    # The preview is the first five data rows of the sheet, read here independently with openpyxl.
    workbook = openpyxl.load_workbook(sample_file, read_only=True)
    sheet_rows = workbook.active.iter_rows(min_row=1, max_row=6, values_only=True)
    header = list(next(sheet_rows))
    expected = [dict(zip(header, row, strict=True)) for row in sheet_rows]
    workbook.close()
    assert len(body["preview"]) == 5
    for shown, raw in zip(body["preview"], expected, strict=True):
        customer = shown["CustomerID"]
        if raw["CustomerID"] is None:
            assert customer is None
        else:
            assert isinstance(customer, str)
            assert not customer.endswith(".0")
            assert customer == str(int(raw["CustomerID"]))
        assert shown["InvoiceNo"] == str(raw["InvoiceNo"])
        assert shown["StockCode"] == str(raw["StockCode"])
        assert shown["Quantity"] == raw["Quantity"]
        assert shown["UnitPrice"] == pytest.approx(raw["UnitPrice"])
        assert shown["InvoiceDate"] == raw["InvoiceDate"].isoformat()
        assert shown["Country"] == raw["Country"]
    assert any(row["CustomerID"] is not None for row in body["preview"])


# --- encodings, delimiters, header position -----------------------------------------------------------------------

def test_cp1252_semicolon_csv_with_decimal_commas(client, alice, tmp_path):
    content = (
        "InvoiceNo;CustomerID;StockCode;Description;Quantity;UnitPrice;InvoiceDate;Country\n"
        "1001;12345;A1;Café crème;2;2,50;2011-12-01 10:00;France\n"
        "1002;23456;B2;Müller Brot;1;1.234,50;2011-12-02 11:00;Österreich\n"
        "1003;34567;C3;Crêpe façon Bretagne;3;0,99;2011-12-03 12:00;France\n"
    )
    path = write(tmp_path, "umsatz.csv", content, encoding="cp1252")
    assert "Café".encode("cp1252") in path.read_bytes()  # really not UTF-8
    body = upload(client, alice, path)
    assert body["source"]["encoding"] in ("cp1252", "latin-1", "iso-8859-1")
    assert body["source"]["delimiter"] == ";"
    assert body["source"]["decimal"] == ","
    assert body["rows"] == 3
    assert body["column_types"]["UnitPrice"] == "number"
    rows = body["preview"]
    assert [row["UnitPrice"] for row in rows] == [2.5, 1234.5, 0.99]
    assert [row["Quantity"] for row in rows] == [2, 1, 3]
    assert [row["Description"] for row in rows] == ["Café crème", "Müller Brot", "Crêpe façon Bretagne"]
    assert rows[1]["Country"] == "Österreich"
    assert rows_of(client, alice, body["file_id"], q="müller")[0]["UnitPrice"] == 1234.5


def test_utf8_with_bom_has_a_clean_first_header(client, alice, tmp_path):
    path = write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + RETAIL_CSV.encode("utf-8"))
    body = upload(client, alice, path)
    assert body["columns"][0] == "InvoiceNo"
    assert body["roles"]["invoice"] == "InvoiceNo"
    assert body["source"]["encoding"] in ("utf-8-sig", "utf-8")
    assert body["rows"] == 3
    assert body["preview"][0]["InvoiceNo"] == "536365"


def test_utf16_tab_separated_unicode_text_export(client, alice, tmp_path):
    """Excel's "Unicode text" export: UTF-16LE with a BOM, tab-separated, named .txt."""
    content = RETAIL_CSV.replace(",", "\t").replace("HAND WARMER", "Café 🎄 圣诞")
    path = write(tmp_path, "export.txt", b"\xff\xfe" + content.encode("utf-16-le"))
    body = upload(client, alice, path)
    assert body["source"]["encoding"].startswith("utf-16")
    assert body["source"]["delimiter"] == "\t"
    assert body["columns"][0] == "InvoiceNo"
    assert body["rows"] == 3
    assert body["preview"][2]["Description"] == "Café 🎄 圣诞 UNION JACK"
    assert body["preview"][2]["UnitPrice"] == 1.85


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_windows_and_old_mac_line_endings(client, alice, tmp_path, newline):
    body = upload(client, alice, write(tmp_path, "endings.csv", RETAIL_CSV.replace("\n", newline)))
    assert body["rows"] == 3
    assert body["preview"][0]["InvoiceNo"] == "536365"
    assert body["preview"][2]["Country"] == "France"
    assert body["preview"][1]["UnitPrice"] == 3.39


def test_quoted_fields_with_delimiters_quotes_and_line_breaks(client, alice, tmp_path):
    content = (
        "InvoiceNo;Description;Quantity\n"
        '1;"Mug; large";2\n'
        '2;"Sign ""Home""";3\n'
        '3;"two\nlines";4\n'
        "4;plain;5\n"
    )
    body = upload(client, alice, write(tmp_path, "quoted.csv", content))
    assert body["source"]["delimiter"] == ";"
    assert body["rows"] == 4
    assert [row["Description"] for row in body["preview"]] == ["Mug; large", 'Sign "Home"', "two\nlines", "plain"]
    assert [row["Quantity"] for row in body["preview"]] == [2, 3, 4, 5]


def test_emoji_and_non_latin_text_survive_storage(client, alice, tmp_path):
    content = "InvoiceNo,Description,Country\n1,🎄 Weihnachtsbaum,Deutschland\n2,圣诞树,中国\n3,ต้นคริสต์มาส,ไทย\n"
    body = upload(client, alice, write(tmp_path, "unicode.csv", content))
    expected = ["🎄 Weihnachtsbaum", "圣诞树", "ต้นคริสต์มาส"]
    assert [row["Description"] for row in body["preview"]] == expected
    again = client.get(f"/api/files/{body['file_id']}", headers=alice.headers).json
    assert [row["Description"] for row in again["preview"]] == expected
    assert [row["Description"] for row in rows_of(client, alice, body["file_id"], country="中国")] == ["圣诞树"]


def test_a_long_non_ascii_file_name_is_kept_up_to_255_characters(client, alice, tmp_path):
    name = "Umsätze " + "é" * 300 + ".csv"
    body = upload(client, alice, write(tmp_path, "long.csv", RETAIL_CSV), name)
    assert len(body["filename"]) == 255
    assert body["filename"].endswith("é.csv")
    assert client.get(f"/api/files/{body['file_id']}", headers=alice.headers).json["filename"] == body["filename"]


@pytest.mark.parametrize(("name", "delimiter"), [("sales.tsv", "\t"), ("sales.txt", "|"), ("piped.csv", "|")])
def test_tab_and_pipe_delimited_files(client, alice, tmp_path, name, delimiter):
    path = write(tmp_path, name, RETAIL_CSV.replace(",", delimiter))
    body = upload(client, alice, path)
    assert body["source"]["delimiter"] == delimiter
    assert body["rows"] == 3
    assert body["columns"] == ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
                               "CustomerID", "Country"]
    assert body["preview"][0]["Description"] == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert body["preview"][2]["UnitPrice"] == 1.85
    assert body["roles"]["customer"] == "CustomerID"


def test_title_rows_above_the_header_are_skipped(client, alice, tmp_path):
    content = "Sales report December 2010\nExported 2011-01-03 by the shop system\n\n" + RETAIL_CSV
    body = upload(client, alice, write(tmp_path, "report.csv", content))
    assert body["source"]["header_line"] == 4
    assert body["columns"][0] == "InvoiceNo"
    assert body["rows"] == 3
    assert body["preview"][0]["StockCode"] == "85123A"
    assert body["roles"]["date"] == "InvoiceDate"


def test_customer_ids_with_leading_zeros_stay_text(client, alice, tmp_path):
    content = (
        "InvoiceNo,CustomerID,StockCode,Quantity,UnitPrice\n"
        "1,00123,0042,1,1.5\n"
        "2,00456,0042,2,1.5\n"
        "3,12000,0099,3,2.0\n"
    )
    body = upload(client, alice, write(tmp_path, "zeros.csv", content))
    assert body["column_types"]["CustomerID"] == "text"
    assert [row["CustomerID"] for row in body["preview"]] == ["00123", "00456", "12000"]
    assert [row["StockCode"] for row in body["preview"]] == ["0042", "0042", "0099"]
    assert len(rows_of(client, alice, body["file_id"], customer="00123")) == 1


# --- role detection on well-known public layouts ------------------------------------------------------------------

def test_online_retail_ii_headers(client, alice, tmp_path):
    content = (
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
        "489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom\n"
        "489434,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085.0,United Kingdom\n"
        "489435,22350,CAT BOWL,12,2009-12-01 07:46:00,2.55,13086.0,United Kingdom\n"
    )
    body = upload(client, alice, write(tmp_path, "online_retail_II.csv", content))
    assert body["roles"] == {
        "invoice": "Invoice", "item": "StockCode", "description": "Description", "quantity": "Quantity",
        "date": "InvoiceDate", "unit_price": "Price", "customer": "Customer ID", "country": "Country",
    }
    assert [row["Customer ID"] for row in body["preview"]] == ["13085", "13085", "13086"]
    assert body["preview"][0]["InvoiceDate"] == "2009-12-01T07:45:00"


def test_superstore_headers(client, alice, tmp_path):
    content = (
        "Row ID,Order ID,Order Date,Ship Date,Customer ID,Customer Name,Country,Product ID,Product Name,"
        "Sales,Quantity,Discount,Profit\n"
        '1,CA-2016-152156,11/8/2016,11/11/2016,CG-12520,Claire Gute,United States,FUR-BO-10001798,'
        '"Bush Somerset Collection Bookcase",261.96,2,0,41.9136\n'
        '2,CA-2016-152156,11/8/2016,11/11/2016,CG-12520,Claire Gute,United States,FUR-CH-10000454,'
        '"Hon Deluxe Fabric Upholstered Stacking Chairs, Rounded Back",731.94,3,0,219.582\n'
        "3,CA-2016-138688,6/12/2016,6/16/2016,DV-13045,Darrin Van Huff,United States,OFF-LA-10000240,"
        "Self-Adhesive Address Labels,14.62,2,0,6.8714\n"
    )
    body = upload(client, alice, write(tmp_path, "superstore.csv", content))
    roles = body["roles"]
    assert roles["invoice"] == "Order ID"
    assert roles["date"] == "Order Date"
    assert roles["customer"] == "Customer ID"
    assert roles["item"] == "Product ID"
    assert roles["description"] == "Product Name"
    assert roles["amount"] == "Sales"
    assert roles["quantity"] == "Quantity"
    assert roles["country"] == "Country"
    assert body["preview"][1]["Product Name"] == "Hon Deluxe Fabric Upholstered Stacking Chairs, Rounded Back"
    assert body["preview"][0]["Order Date"] == "2016-11-08T00:00:00"
    assert body["preview"][2]["Order Date"] == "2016-06-12T00:00:00"
    assert body["preview"][1]["Sales"] == 731.94


def test_groceries_member_date_item_headers(client, alice, tmp_path):
    content = (
        "Member_number,Date,itemDescription\n"
        "1808,21-07-2015,tropical fruit\n"
        "2552,05-01-2015,whole milk\n"
        "2300,19-09-2015,pip fruit\n"
        "1187,12-12-2015,other vegetables\n"
    )
    body = upload(client, alice, write(tmp_path, "Groceries_dataset.csv", content))
    assert body["layout"] == "transactions"
    assert body["roles"]["customer"] == "Member_number"
    assert body["roles"]["date"] == "Date"
    assert body["roles"]["item"] == "itemDescription"
    assert body["column_types"]["Date"] == "datetime"
    assert [row["Date"][:10] for row in body["preview"]] == ["2015-07-21", "2015-01-05", "2015-09-19", "2015-12-12"]
    assert body["preview"][0]["Member_number"] == "1808"


# --- basket layout ------------------------------------------------------------------------------------------------

GROCERIES_BASKETS = """citrus fruit,semi-finished bread,margarine,ready soups
tropical fruit,yogurt,coffee
whole milk
pip fruit,yogurt,cream cheese ,meat spreads
other vegetables,whole milk,condensed milk,long life bakery product
whole milk,butter,yogurt,rice,abrasive cleaner
rolls/buns
other vegetables,UHT-milk,rolls/buns,bottled beer,liquor (appetizer)
pot plants
whole milk,cereals
tropical fruit,other vegetables,white bread,bottled water,chocolate
citrus fruit,tropical fruit,whole milk,butter,curd,yogurt,flour,bottled water,dishes
beef
frankfurter,rolls/buns,soda
chicken,tropical fruit
butter,sugar,fruit/vegetable juice,newspapers
fruit/vegetable juice
packaged fruit/vegetables
chocolate
specialty bar
"""


def test_groceries_basket_file_is_detected_as_baskets(client, alice, tmp_path):
    body = upload(client, alice, write(tmp_path, "groceries.csv", GROCERIES_BASKETS))
    lines = [line.split(",") for line in GROCERIES_BASKETS.strip().split("\n")]
    assert body["layout"] == "baskets"
    assert body["rows"] == len(lines)  # baskets, not (basket, item) pairs
    assert body["pairs"] == sum(len(set(item.strip() for item in line)) for line in lines)
    assert body["items"] == len({item.strip() for line in lines for item in line})
    assert body["preview"][:4] == [{"basket": 1, "item": "citrus fruit"}, {"basket": 1, "item": "semi-finished bread"},
                                   {"basket": 1, "item": "margarine"}, {"basket": 1, "item": "ready soups"}]
    assert body["preview"][4] == {"basket": 2, "item": "tropical fruit"}
    assert body["roles"]["invoice"] == "basket"
    assert body["roles"]["item"] == "item"
    basket_4 = rows_of(client, alice, body["file_id"], q="cream cheese")
    assert basket_4 == [{"basket": 4, "item": "cream cheese"}]
    last = rows_of(client, alice, body["file_id"], sort="basket", order="desc", per_page=1)
    assert last == [{"basket": 20, "item": "specialty bar"}]


def test_layout_transactions_override_on_a_basket_file_is_not_read_as_baskets(client, alice, tmp_path):
    """Told it is a table, the server does not fall back to baskets: its ragged lines are a 422 naming one."""
    response = post_upload(client, alice, write(tmp_path, "groceries.csv", GROCERIES_BASKETS), layout="transactions")
    body = assert_problem(response, 422)
    fields = [error["field"] for error in body.get("errors", [])]
    assert len(fields) == 1 and fields[0].startswith("line "), body
    assert "fields but the header has" in body["detail"]
    assert client.get("/api/files", headers=alice.headers).json["total"] == 0


def test_layout_baskets_forced_on_an_ambiguous_file(client, alice, tmp_path):
    content = "bread,milk,eggs\nbeer,chips,salsa\ntea,sugar,lemon\nbread,butter,jam\n"
    path = write(tmp_path, "shopping.csv", content)
    auto = upload(client, alice, path)
    assert auto["layout"] == "transactions"
    assert auto["columns"] == ["bread", "milk", "eggs"]
    assert auto["rows"] == 3
    forced = upload(client, alice, path, layout="baskets")
    assert forced["layout"] == "baskets"
    assert (forced["rows"], forced["pairs"], forced["items"]) == (4, 12, 11)
    assert forced["columns"] == ["basket", "item"]
    assert forced["preview"][:3] == [{"basket": 1, "item": "bread"}, {"basket": 1, "item": "milk"},
                                     {"basket": 1, "item": "eggs"}]
    assert rows_of(client, alice, forced["file_id"], q="jam") == [{"basket": 4, "item": "jam"}]


# --- client-given column roles ------------------------------------------------------------------------------------

KUNDE_CSV = (
    "InvoiceNo,CustomerID,Kunde,Quantity,UnitPrice\n"
    "1,17850,007,1,1.5\n"
    "2,17851,008,2,2.5\n"
)


def test_columns_override_assigns_a_role_and_types_the_column(client, alice, tmp_path):
    path = write(tmp_path, "kunden.csv", KUNDE_CSV)
    assert upload(client, alice, path)["roles"]["customer"] == "CustomerID"
    body = upload(client, alice, path, columns={"customer": "Kunde"})
    assert body["roles"]["customer"] == "Kunde"
    assert body["column_types"]["Kunde"] == "text"
    assert [row["Kunde"] for row in body["preview"]] == ["007", "008"]
    assert len(rows_of(client, alice, body["file_id"], customer="007")) == 1
    removed = upload(client, alice, path, columns={"customer": None})
    assert "customer" not in removed["roles"]
    assert any("date" in warning for warning in removed["warnings"])  # this file has no date column


def test_columns_override_with_an_unknown_role_is_a_422_naming_it(client, alice, tmp_path):
    response = post_upload(client, alice, write(tmp_path, "kunden.csv", KUNDE_CSV), columns={"shoe_size": "Kunde"})
    body = assert_problem(response, 422, "columns.shoe_size")
    assert "shoe_size" in body["detail"]
    assert client.get("/api/files", headers=alice.headers).json["total"] == 0


def test_columns_override_with_an_unknown_column_is_a_422_naming_it(client, alice, tmp_path):
    response = post_upload(client, alice, write(tmp_path, "kunden.csv", KUNDE_CSV), columns={"customer": "Klient"})
    body = assert_problem(response, 422, "columns.customer")
    assert "Klient" in body["detail"]
    assert client.get("/api/files", headers=alice.headers).json["total"] == 0


@pytest.mark.parametrize("raw", ["{customer: Kunde", "[\"Kunde\"]", "{\"customer\": 5}", "not json"])
def test_malformed_columns_mapping_is_a_422(client, alice, tmp_path, raw):
    response = post_upload(client, alice, write(tmp_path, "kunden.csv", KUNDE_CSV), columns=raw)
    assert_problem(response, 422, "columns")
    assert client.get("/api/files", headers=alice.headers).json["total"] == 0


# --- JSON, archives -----------------------------------------------------------------------------------------------

RECORDS = [
    {"InvoiceNo": "536365", "StockCode": "85123A", "Description": "WHITE HANGING HEART", "Quantity": 6,
     "InvoiceDate": "2010-12-01T08:26:00", "UnitPrice": 2.55, "CustomerID": "17850", "Country": "United Kingdom"},
    {"InvoiceNo": "536366", "StockCode": "22633", "Description": "HAND WARMER", "Quantity": 2,
     "InvoiceDate": "2010-12-02T09:00:00", "UnitPrice": 1.85, "CustomerID": "12583", "Country": "France"},
]


def test_json_array_of_records(client, alice, tmp_path):
    body = upload(client, alice, write(tmp_path, "sales.json", json.dumps(RECORDS)))
    assert body["format"] == "json"
    assert body["rows"] == 2
    assert body["columns"] == list(RECORDS[0])
    assert body["roles"]["customer"] == "CustomerID"
    assert body["column_types"]["InvoiceDate"] == "datetime"
    assert body["preview"][1]["InvoiceDate"] == "2010-12-02T09:00:00"
    assert body["preview"][1]["UnitPrice"] == 1.85
    assert body["preview"][0]["CustomerID"] == "17850"


def test_json_lines(client, alice, tmp_path):
    content = "\n".join(json.dumps(record) for record in RECORDS) + "\n"
    body = upload(client, alice, write(tmp_path, "sales.jsonl", content), "sales.json")
    assert body["format"] == "json"
    assert body["rows"] == 2
    assert body["preview"][0]["Description"] == "WHITE HANGING HEART"
    assert body["preview"][1]["Quantity"] == 2


def test_json_object_holding_one_array_of_records(client, alice, tmp_path):
    body = upload(client, alice, write(tmp_path, "export.json", json.dumps({"count": 2, "data": RECORDS})))
    assert body["rows"] == 2
    assert body["preview"][1]["InvoiceNo"] == "536366"


def test_zip_holding_one_csv(client, alice, tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data/retail.csv", RETAIL_CSV)
    body = upload(client, alice, path)
    assert body["format"] == "zip"
    assert body["source"]["inner_file"] == "retail.csv"
    assert body["rows"] == 3
    assert body["preview"][2]["Country"] == "France"
    assert body["filename"] == "export.zip"
    folder = next((client.application.config["UPLOAD_DIR"] / f"user_{alice.user_id}").iterdir())
    assert sorted(p.name for p in folder.iterdir()) == ["data.parquet", "original.zip"]


def test_gzipped_csv(client, alice, tmp_path):
    path = write(tmp_path, "retail.csv.gz", gzip.compress(RETAIL_CSV.encode()))
    body = upload(client, alice, path)
    assert body["format"] == "gzip"
    assert body["source"]["inner_file"] == "retail.csv"
    assert body["rows"] == 3
    assert body["preview"][1]["UnitPrice"] == 3.39


# --- workbooks ----------------------------------------------------------------------------------------------------

def test_multi_sheet_xlsx_by_name_and_position(client, alice, tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"Notes": ["read me", "nothing here"], "Page": ["1", "2"]}).to_excel(
            writer, sheet_name="Info", index=False)
        dates = pd.to_datetime(["2011-01-02 10:00", "2011-01-03 00:00", "2011-01-04 00:00"])
        pd.DataFrame({"InvoiceNo": ["A1", "A2", "A3"], "CustomerID": [17850.0, 12583.0, None],
                      "Quantity": [1, 2, 3], "UnitPrice": [1.5, 2.25, 3.0], "InvoiceDate": dates}).to_excel(
            writer, sheet_name="Sales 2011", index=False)
    first = upload(client, alice, path)
    assert first["source"]["sheet"] == "Info"
    assert first["columns"] == ["Notes", "Page"]
    for requested in ("Sales 2011", "2"):
        body = upload(client, alice, path, sheet=requested)
        assert body["source"]["sheet"] == "Sales 2011"
        assert body["source"]["sheets"] == ["Info", "Sales 2011"]
        assert body["sheets"] == [{"name": "Info", "rows": 2}, {"name": "Sales 2011", "rows": 3}]
        assert body["rows"] == 3
        assert [row["CustomerID"] for row in body["preview"]] == ["17850", "12583", None]
        assert body["preview"][0]["InvoiceDate"] == "2011-01-02T10:00:00"
        assert body["preview"][1]["UnitPrice"] == 2.25
        assert body["column_types"]["InvoiceDate"] == "datetime"


def test_xlsx_with_a_title_row_and_mixed_id_cells(client, alice, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Sales report 2011"])
    sheet.append([])
    sheet.append(["InvoiceNo", "CustomerID", "Quantity", "InvoiceDate"])
    sheet.append(["A1", 12345, 1, datetime(2011, 1, 2, 10, 0)])
    sheet.append(["A2", "00346", 2, datetime(2011, 1, 3)])
    sheet.append(["A3", "A-7", 3, datetime(2011, 1, 4)])
    sheet.append([536365, 12347.0, 4, datetime(2011, 1, 5)])
    path = tmp_path / "titled.xlsx"
    workbook.save(path)
    body = upload(client, alice, path)
    assert body["columns"] == ["InvoiceNo", "CustomerID", "Quantity", "InvoiceDate"]
    assert body["rows"] == 4
    assert [row["CustomerID"] for row in body["preview"]] == ["12345", "00346", "A-7", "12347"]
    assert [row["InvoiceNo"] for row in body["preview"]] == ["A1", "A2", "A3", "536365"]
    assert body["preview"][0]["InvoiceDate"] == "2011-01-02T10:00:00"
    assert [row["Quantity"] for row in body["preview"]] == [1, 2, 3, 4]


def test_unknown_sheet_is_a_422_listing_the_sheets(client, alice, tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"a": [1]}).to_excel(writer, sheet_name="Info", index=False)
        pd.DataFrame({"b": [2]}).to_excel(writer, sheet_name="Sales", index=False)
    for requested in ("Umsatz", "3", "0"):
        body = assert_problem(post_upload(client, alice, path, sheet=requested), 422, "sheet")
        assert "Info" in body["detail"] and "Sales" in body["detail"]
    assert client.get("/api/files", headers=alice.headers).json["total"] == 0


# --- dates --------------------------------------------------------------------------------------------------------

def test_day_first_dates_are_parsed(client, alice, tmp_path):
    content = (
        "InvoiceNo,InvoiceDate,Quantity\n"
        "1,25/12/2011 10:30,1\n"
        "2,01/02/2011 08:00,2\n"
        "3,13/01/2011 23:59,3\n"
    )
    body = upload(client, alice, write(tmp_path, "dmy.csv", content))
    assert body["column_types"]["InvoiceDate"] == "datetime"
    assert [row["InvoiceDate"] for row in body["preview"]] == [
        "2011-12-25T10:30:00", "2011-02-01T08:00:00", "2011-01-13T23:59:00"]
    assert not any("not dates" in warning for warning in body["warnings"])


def test_a_few_bad_dates_are_reported_with_their_count(client, alice, tmp_path):
    good = [f"{day:02d}/03/2011 10:00" for day in range(13, 23)]
    lines = [f"{i},{date},1" for i, date in enumerate([*good, "soon", "31/02/2011 10:00"], start=1)]
    content = "InvoiceNo,InvoiceDate,Quantity\n" + "\n".join(lines) + "\n"
    body = upload(client, alice, write(tmp_path, "bad_dates.csv", content))
    assert body["rows"] == 12
    assert body["roles"]["date"] == "InvoiceDate"
    date_warnings = [warning for warning in body["warnings"] if "InvoiceDate" in warning]
    assert len(date_warnings) == 1
    assert "2 " in date_warnings[0]
    rows = rows_of(client, alice, body["file_id"])
    assert [row["InvoiceDate"] for row in rows[-2:]] == [None, None]
    assert rows[0]["InvoiceDate"] == "2011-03-13T10:00:00"


# --- response shape -----------------------------------------------------------------------------------------------

def test_upload_answer_has_the_documented_shape(client, alice, tmp_path):
    path = write(tmp_path, "retail.csv", RETAIL_CSV)
    response = post_upload(client, alice, path)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    body = response.json
    assert body["message"] == "file uploaded"
    assert isinstance(body["file_id"], int)
    assert body["upload_id"] == body["file_id"]
    assert body["filename"] == "retail.csv"
    assert body["size"] == len(RETAIL_CSV.encode())
    assert body["rows"] == 3
    assert body["columns"] == ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
                               "CustomerID", "Country"]
    assert set(body["roles"]) <= ROLE_NAMES
    assert set(body["roles"].values()) <= set(body["columns"])
    assert body["layout"] == "transactions"
    assert isinstance(body["warnings"], list)
    assert all(isinstance(warning, str) for warning in body["warnings"])
    assert isinstance(body["preview"], list)
    assert all(isinstance(row, dict) for row in body["preview"])
    assert body["preview"][0] == {
        "InvoiceNo": "536365", "StockCode": "85123A", "Description": "WHITE HANGING HEART T-LIGHT HOLDER",
        "Quantity": 6, "InvoiceDate": "2010-12-01T08:26:00", "UnitPrice": 2.55, "CustomerID": "17850",
        "Country": "United Kingdom",
    }
    assert body["raw_available"] is True
    listed = client.get("/api/files", headers=alice.headers).json
    assert listed["total"] == 1
    assert listed["items"][0]["file_id"] == body["file_id"]


def test_upload_needs_a_token(client, tmp_path):
    path = write(tmp_path, "retail.csv", RETAIL_CSV)
    response = client.post("/api/upload", data={"file": (io.BytesIO(path.read_bytes()), "retail.csv")},
                           content_type="multipart/form-data")
    assert_problem(response, 401)


# --- regressions: each of these failed on 6915ad9 (wrong numbers, lost dates) -----------------------------------

@pytest.mark.parametrize(("name", "content"), [
    # comma-separated file whose prices are quoted with decimal commas
    ("quoted.csv", 'InvoiceNo,Quantity,UnitPrice\n1,1,"2,50"\n2,2,"0,75"\n3,3,"1,25"\n'),
    # semicolon file: as many thousands-grouped quantities (1.000) as decimal-comma prices, so the vote ties
    ("euro.csv", "InvoiceNo;Quantity;UnitPrice\n1;1.000;2,50\n2;2.000;0,75\n3;1.500;1,25\n"),
], ids=["quoted-in-comma-file", "semicolon-file-tie"])
def test_decimal_comma_prices_are_never_read_as_hundreds(client, alice, tmp_path, name, content):
    body = upload(client, alice, write(tmp_path, name, content))
    # "2,50" cannot be a thousands-grouped number (a group has three digits): it is 2.5 or it is not a number.
    assert [row["UnitPrice"] for row in body["preview"]] == [2.5, 0.75, 1.25]


def test_dates_with_and_without_a_time_in_one_column(client, alice, tmp_path):
    content = "InvoiceNo,InvoiceDate,Quantity\n1,12/1/2010 8:26,1\n2,12/2/2010,2\n3,12/3/2010 9:00,3\n"
    body = upload(client, alice, write(tmp_path, "mixed_dates.csv", content))
    assert [row["InvoiceDate"] for row in body["preview"]] == [
        "2010-12-01T08:26:00", "2010-12-02T00:00:00", "2010-12-03T09:00:00"]
    assert not any("not dates" in warning for warning in body["warnings"])
