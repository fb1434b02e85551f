"""Pure ingest functions on tiny hand-made inputs: roles, typing, dialect sniffing, archives."""
import gzip
import zipfile

import pandas as pd
import pytest

from services.errors import Invalid, Unsupported
from services.ingest import text
from services.ingest.archives import ArchiveLimits, check_workbook, column_number, extract_gzip, extract_zip_member
from services.ingest.columns import as_datetime, as_id_text, as_number, check_headers
from services.ingest.roles import apply_overrides, detect_roles, normalise_name, require_roles
from services.ingest.sniff import sniff
from tests.conftest import TEST_DATA


def frame(columns, *rows):
    return pd.DataFrame(list(rows) or [[""] * len(columns)], columns=columns, dtype="string")


@pytest.mark.parametrize(("columns", "expected"), [
    (["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"],
     {"invoice": "InvoiceNo", "item": "StockCode", "description": "Description", "quantity": "Quantity",
      "date": "InvoiceDate", "unit_price": "UnitPrice", "customer": "CustomerID", "country": "Country"}),
    (["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"],
     {"invoice": "Invoice", "item": "StockCode", "description": "Description", "quantity": "Quantity",
      "date": "InvoiceDate", "unit_price": "Price", "customer": "Customer ID", "country": "Country"}),
    (["Row ID", "Order ID", "Order Date", "Ship Date", "Customer ID", "Customer Name", "Country", "Product ID",
      "Product Name", "Sales", "Quantity", "Discount", "Profit"],
     {"invoice": "Order ID", "date": "Order Date", "customer": "Customer ID", "country": "Country",
      "item": "Product ID", "description": "Product Name", "amount": "Sales", "quantity": "Quantity"}),
    (["Member_number", "Date", "itemDescription"],
     {"customer": "Member_number", "date": "Date", "description": "itemDescription", "item": "itemDescription"}),
    (["N° facture", "Code produit", "Désignation", "Quantité", "Date", "Prix unitaire", "Client", "Pays"],
     {"invoice": "N° facture", "item": "Code produit", "description": "Désignation", "quantity": "Quantité",
      "date": "Date", "unit_price": "Prix unitaire", "customer": "Client", "country": "Pays"}),
])
def test_roles_by_header_name(columns, expected):
    values = {"Quantity": "3", "Quantité": "3", "Sales": "9.5", "UnitPrice": "1.5", "Price": "1.5",
              "Prix unitaire": "1,5", "InvoiceDate": "2011-01-02 10:00", "Order Date": "2011-01-02",
              "Ship Date": "2011-01-05", "Date": "2011-01-02"}
    sample = frame(columns, [values.get(c, "x") for c in columns])
    assert detect_roles(sample) == expected


def test_a_name_match_with_contradicting_content_is_refused_and_dates_are_found_by_content():
    sample = frame(["Date", "When", "Quantity"], ["monday", "2011-01-02", "many"], ["friday", "2011-02-03", "few"])
    roles = detect_roles(sample)
    assert roles == {"date": "When"}


def test_normalise_name_folds_case_accents_and_punctuation():
    assert normalise_name(" Customer_ID ") == "customerid"
    assert normalise_name("Quantité") == "quantite"


def test_overrides_and_missing_roles():
    roles = apply_overrides({"customer": "A"}, {"customer": "B", "country": None}, ["A", "B"])
    assert roles == {"customer": "B"}
    with pytest.raises(Invalid, match="unknown role"):
        apply_overrides({}, {"shoe_size": "A"}, ["A"])
    with pytest.raises(Invalid, match="no column 'Z'"):
        apply_overrides({}, {"customer": "Z"}, ["A", "B"])
    with pytest.raises(Invalid) as missing:
        require_roles({"item": "A"}, ("customer", "date"), ["A", "B"], "RFM")
    assert "customer" in missing.value.detail and "A, B" in missing.value.detail
    assert [e["field"] for e in missing.value.errors] == ["columns.customer", "columns.date"]


def test_headers_blank_and_duplicate_are_named():
    assert check_headers([" a ", "b"]) == ["a", "b"]
    with pytest.raises(Invalid, match="position"):
        check_headers(["a", "", "c"])
    with pytest.raises(Invalid, match="repeats column name.*a"):
        check_headers(["a", "b", "a"])


def test_id_text_keeps_leading_zeros_and_drops_excel_float_tails():
    assert as_id_text(pd.Series(["00123", " 7 ", None, ""], dtype="string")).tolist() == ["00123", "7", pd.NA, pd.NA]
    assert as_id_text(pd.Series([17850.0, None, 12346.0])).tolist() == ["17850", pd.NA, "12346"]
    assert as_id_text(pd.Series(["17850.0", "12346.0"], dtype="string")).tolist() == ["17850", "12346"]
    assert as_id_text(pd.Series(["C536379", "536380.0"], dtype="string")).tolist() == ["C536379", "536380.0"]


def test_numbers_from_text_in_several_notations():
    values, failed = as_number(pd.Series(["1.234,50", "2,5", "(3,00)", "€ 4", "oops", None], dtype="string"), ",")
    assert values.tolist()[:4] == [1234.5, 2.5, -3.0, 4.0]
    assert pd.isna(values.iloc[4]) and failed == 1
    values, failed = as_number(pd.Series(["1,234.50", "$7", "-2"], dtype="string"), ".")
    assert values.tolist() == [1234.5, 7.0, -2.0] and failed == 0
    whole, _ = as_number(pd.Series([1.0, 2.0, 3.0]))
    assert whole.dtype == "int64"


@pytest.mark.parametrize(("raw", "expected"), [
    (["2011-12-09 12:50:00", "2010-12-01 08:26:00"], ["2011-12-09 12:50:00", "2010-12-01 08:26:00"]),
    (["12/1/2010 8:26", "12/9/2011 12:50"], ["2010-12-01 08:26:00", "2011-12-09 12:50:00"]),
    (["25/12/2011 10:30", "01/02/2011 09:00"], ["2011-12-25 10:30:00", "2011-02-01 09:00:00"]),
    (["09.12.2011", "31.01.2011"], ["2011-12-09 00:00:00", "2011-01-31 00:00:00"]),
])
def test_dates_in_several_formats(raw, expected):
    parsed, failed = as_datetime(pd.Series(raw, dtype="string"))
    assert failed == 0
    assert [str(v) for v in parsed] == expected


def test_unparseable_dates_are_counted():
    parsed, failed = as_datetime(pd.Series(["2011-01-02", "not a date", "2011-01-03", None], dtype="string"))
    assert failed == 1 and parsed.isna().sum() == 2


def test_dialect_semicolon_decimal_comma_and_title_rows():
    body = "Sales report\nexported 2011\n\nInvoice;Qty;Price\n1;2;2,50\n2;1;10,00\n3;4;0,75\n"
    dialect = text.sniff_dialect(body, "utf-8", ".csv", None)
    assert (dialect.delimiter, dialect.decimal, dialect.header_line, dialect.layout) == (";", ",", 3, "transactions")
    header, sample = text.header_and_sample(body, dialect)
    assert header == ["Invoice", "Qty", "Price"] and len(sample) == 3


def test_basket_lines_are_detected_and_read():
    body = "citrus fruit,semi-finished bread,margarine,ready soups\ntropical fruit,yogurt,coffee\nwhole milk\n" \
           "pip fruit,yogurt,cream cheese,meat spreads\nother vegetables,whole milk,condensed milk,long life bakery\n" \
           "whole milk,butter,yogurt,rice,abrasive cleaner\nrolls/buns\n"
    dialect = text.sniff_dialect(body, "utf-8", ".csv", None)
    assert dialect.layout == "baskets"
    baskets = text.read_baskets(body + "whole milk,whole milk\n", ",")
    assert baskets["basket"].nunique() == 8
    assert baskets[baskets["basket"] == 8]["item"].tolist() == ["whole milk"]


def test_decoding_falls_back_from_utf8_to_cp1252():
    assert text.decode("Café".encode("cp1252")) == ("Café", "cp1252")
    assert text.decode(b"\xef\xbb\xbfCaf\xc3\xa9") == ("Café", "utf-8-sig")
    with pytest.raises(Invalid, match="not valid utf-8"):
        text.decode(b"\xef\xbb\xbfCaf\xff\xfe")


def test_sniff_trusts_bytes_not_names(tmp_path):
    def kind(data: bytes, name: str) -> str:
        path = tmp_path / "upload"
        path.write_bytes(data)
        return sniff(path, name).kind

    assert kind(b"a,b\n1,2\n", "x.csv") == "csv"
    assert kind(b'[{"a": 1}]', "x.json") == "json"
    for data, name in [(b"MZ\x90\x00", "x.csv"), (b"a,b\n1,2\n", "x.xlsx"), (b"\x00\x01\x02\x03" * 100, "x.csv"),
                       (b"a,b\n", "x.pdf"), (b"PK\x03\x04garbage", "x.zip")]:
        with pytest.raises((Invalid, Unsupported)):
            kind(data, name)
    with pytest.raises(Invalid):
        kind(b"   \n", "x.csv")


def test_zip_and_gzip_extraction_with_caps(tmp_path):
    one = tmp_path / "one.zip"
    with zipfile.ZipFile(one, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__MACOSX/._sales.csv", "junk")
        archive.writestr("sales.csv", "a,b\n1,2\n")
    path, inner = extract_zip_member(one, tmp_path, ArchiveLimits())
    assert (inner, path.read_text()) == ("sales.csv", "a,b\n1,2\n")

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.csv", "0" * (5 * 2**20))
    with pytest.raises(Invalid, match="zip bomb|limit"):
        extract_zip_member(bomb, tmp_path, ArchiveLimits(max_bytes=2**20))
    with pytest.raises(Invalid, match="bomb"):
        extract_zip_member(bomb, tmp_path, ArchiveLimits(max_ratio=10))

    packed = tmp_path / "sales.csv.gz"
    packed.write_bytes(gzip.compress(b"0" * (5 * 2**20)))
    with pytest.raises(Invalid, match="bomb"):
        extract_gzip(packed, "sales.csv", tmp_path, ArchiveLimits(max_ratio=10))


def test_workbook_dimension_check(tmp_path):
    book = tmp_path / "book.xlsx"
    with zipfile.ZipFile(book, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", '<worksheet><dimension ref="A1:XFD1048576"/></worksheet>')
    with pytest.raises(Invalid, match="17,179,869,184 cells"):
        check_workbook(book, ArchiveLimits())
    assert column_number("A") == 1 and column_number("XFD") == 16384


def test_json_records_and_lines():
    from services.ingest.jsonfile import read_json_records

    assert read_json_records('[{"a": 1}, {"a": 2, "b": [1]}]').shape == (2, 2)
    assert read_json_records('{"data": [{"a": 1}]}').shape == (1, 1)
    assert read_json_records('{"a": 1}\n{"a": 2}\n').shape == (2, 1)
    for bad in ('{"a": 1}\n{oops}\n', "[1, 2]", '"text"'):
        with pytest.raises(Invalid):
            read_json_records(bad)


def test_xls_with_a_title_row_reads_typed(tmp_path):

    from services.ingest.reader import IngestOptions, read_upload

    table = read_upload(TEST_DATA / "orders.xls", "orders.xls", tmp_path, IngestOptions())
    assert table.source["sheets"] == ["Orders", "Notes"]
    assert table.roles["invoice"] == "InvoiceNo" and table.roles["date"] == "InvoiceDate"
    assert table.frame["CustomerID"].tolist() == ["17850", "17850", "14527", "00123"]
    assert table.frame["InvoiceNo"].tolist()[2] == "C536379"
    assert table.frame["Quantity"].tolist() == [6, 6, -1, 24]
    assert str(table.frame["InvoiceDate"].iloc[0]) == "2010-12-01 08:26:00"
    assert table.warnings == []
