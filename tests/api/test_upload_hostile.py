"""POST /api/upload with hostile or broken input: always a 4xx problem, nothing stored, and the server keeps working."""
from __future__ import annotations

import gzip
import io
import random
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

import openpyxl
import pytest

from app import create_app
from config import load_config
from tests.conftest import assert_problem

GOOD_CSV = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
    "536366,22633,HAND WARMER UNION JACK,2,2010-12-01 08:28:00,1.85,12583,France\n"
)
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@pytest.fixture
def alice(auth):
    return auth.register("alice")


def post(client, account, data: bytes | None, filename: str = "sales.csv", **form):
    fields = dict(form)
    if data is not None:
        fields["file"] = (io.BytesIO(data), filename)
    return client.post("/api/upload", headers=account.headers, data=fields, content_type="multipart/form-data")


def leftovers(root: Path) -> list[str]:
    """Everything under the upload root except empty per-user folders."""
    found = []
    for path in sorted(root.rglob("*")) if root.exists() else []:
        if path.is_dir() and path.parent == root and path.name.startswith("user_") and not any(path.iterdir()):
            continue
        found.append(str(path.relative_to(root)))
    return found


def assert_nothing_stored(app, client, account) -> None:
    listed = client.get("/api/files", headers=account.headers)
    assert listed.status_code == 200
    assert listed.json["total"] == 0
    assert listed.json["items"] == []
    assert leftovers(app.config["UPLOAD_DIR"]) == []


def assert_normal_upload_works(app, client, account) -> None:
    response = post(client, account, GOOD_CSV.encode(), "after.csv")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["rows"] == 2
    assert response.json["preview"][1]["UnitPrice"] == 1.85
    assert client.get("/api/files", headers=account.headers).json["total"] == 1
    stored = leftovers(app.config["UPLOAD_DIR"])
    folder = f"user_{account.user_id}/"
    assert sorted(Path(p).name for p in stored if p.startswith(folder) and p.count("/") == 2) == [
        "data.parquet", "original.csv"]
    assert len([p for p in stored if p.count("/") == 1]) == 1  # one upload folder, no staging leftovers


# --- builders for the hostile inputs ------------------------------------------------------------------------------

def real_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["InvoiceNo", "CustomerID", "Quantity", "UnitPrice"])
    for number in range(200):
        sheet.append([f"INV{number}", 10000 + number, number % 7 + 1, 1.25 * (number % 11)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def minimal_xlsx(sheet_xml: str) -> bytes:
    """A bare-bones xlsx package around one worksheet's XML."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def far_cell_xlsx(dimension: str | None) -> bytes:
    """One text cell at A1 and one number at XFD1048576, the last cell of a sheet."""
    dimension_xml = f'<dimension ref="{dimension}"/>' if dimension else ""
    return minimal_xlsx(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'{dimension_xml}<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>'
    )


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_with_lying_size(real_size: int, claimed_size: int) -> bytes:
    """A zip whose headers claim its CSV expands to `claimed_size` bytes while it really holds `real_size`."""
    data = bytearray(zipped({"sales.csv": b"a\n" + b"0" * real_size}))
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, claimed_size)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, claimed_size)
    return bytes(data)


def noise(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


@dataclass(frozen=True)
class Hostile:
    build: Callable[[], bytes]
    filename: str
    status: int
    field: str | None = None
    detail: str | None = None  # a fragment the problem's detail must contain (case-insensitive)
    form: dict = dataclass_field(default_factory=dict)


CASES = {
    "empty file": Hostile(lambda: b"", "sales.csv", 422, detail="empty"),
    "only blank lines": Hostile(lambda: b"\n \r\n\t\n", "sales.csv", 422),
    "header only": Hostile(lambda: b"InvoiceNo,CustomerID,Quantity\n", "sales.csv", 422, detail="no data rows"),
    "random bytes named csv": Hostile(lambda: noise(4096), "sales.csv", 415),
    "random bytes named xlsx": Hostile(lambda: noise(4096), "sales.xlsx", 415),
    "csv bytes named xlsx": Hostile(lambda: GOOD_CSV.encode(), "sales.xlsx", 415, detail="plain text"),
    "truncated xlsx": Hostile(lambda: real_xlsx()[: len(real_xlsx()) // 2], "sales.xlsx", 422),
    "password-protected xlsx": Hostile(
        lambda: OLE2_MAGIC + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 1024,
        "sales.xlsx", 422, detail="password"),
    "corrupt xls": Hostile(lambda: OLE2_MAGIC + noise(4096), "sales.xls", 422),
    "exe named exe": Hostile(lambda: b"MZ" + noise(2048), "setup.exe", 415),
    "exe named csv": Hostile(lambda: b"MZ\x90\x00" + noise(2048), "sales.csv", 415, detail="executable"),
    "elf named csv": Hostile(lambda: b"\x7fELF" + noise(2048), "sales.csv", 415, detail="executable"),
    "gzip named csv": Hostile(lambda: gzip.compress(GOOD_CSV.encode()), "sales.csv", 415),
    "zip with two csvs": Hostile(lambda: zipped({"a.csv": GOOD_CSV.encode(), "b.csv": GOOD_CSV.encode()}),
                                 "sales.zip", 422, detail="exactly one"),
    "zip holding an exe": Hostile(lambda: zipped({"setup.exe": b"MZ" + noise(512)}), "sales.zip", 422),
    "empty zip": Hostile(lambda: zipped({}), "sales.zip", 415),
    "zip bomb by ratio": Hostile(lambda: zipped({"sales.csv": b"a\n" + b"0" * (20 * 2**20)}), "sales.zip", 422,
                                 detail="zip bomb"),
    "zip with a lying size header": Hostile(lambda: zip_with_lying_size(20 * 2**20, 1000), "sales.zip", 422),
    "gzip bomb": Hostile(lambda: gzip.compress(b"a\n" + b"0" * (20 * 2**20)), "sales.csv.gz", 422),
    "truncated gzip": Hostile(lambda: gzip.compress(GOOD_CSV.encode() * 50)[:200], "sales.csv.gz", 422),
    "gzip holding a non-csv name": Hostile(lambda: gzip.compress(GOOD_CSV.encode()), "sales.exe.gz", 422),
    "undecodable text after a utf-8 bom": Hostile(
        lambda: b"\xef\xbb\xbfInvoiceNo,Description\n1,\xff\xfe\xc3\x28 caf\xe9\n", "sales.csv", 422,
        detail="utf-8"),
    "duplicate headers": Hostile(lambda: b"InvoiceNo,Quantity,InvoiceNo\n1,2,3\n4,5,6\n", "sales.csv", 422,
                                 field="InvoiceNo"),
    "blank header over data": Hostile(lambda: b"InvoiceNo,,Quantity\n1,x,3\n4,y,6\n", "sales.csv", 422,
                                      field="column 2"),
    "ragged rows": Hostile(lambda: b"InvoiceNo,Quantity,UnitPrice\n1,2,3.5\n4,5\n6,7,8.5\n", "sales.csv", 422,
                           field="line 3"),
    "row with too many fields": Hostile(lambda: b"InvoiceNo,Quantity,UnitPrice\n1,2,3.5\n6,7,8.5\n4,5,6,7,8\n",
                                        "sales.csv", 422, field="line 4"),
    "pdf": Hostile(lambda: b"%PDF-1.7\n" + noise(1024), "report.pdf", 415),
    "docx": Hostile(lambda: zipped({"word/document.xml": b"<w:document/>"}), "report.docx", 415),
    "no extension": Hostile(lambda: GOOD_CSV.encode(), "sales", 415),
    "json that is not records": Hostile(lambda: b"[1, 2, 3]", "sales.json", 422),
    "broken json": Hostile(lambda: b'[{"InvoiceNo": "1", "Quantity": ', "sales.json", 422),
    "invalid layout": Hostile(lambda: GOOD_CSV.encode(), "sales.csv", 422, field="layout",
                              form={"layout": "pivot"}),
    "basket layout on a workbook": Hostile(real_xlsx, "sales.xlsx", 422, field="layout", form={"layout": "baskets"}),
    "xlsx with a huge declared dimension": Hostile(lambda: far_cell_xlsx("A1:XFD1048576"), "huge.xlsx", 422,
                                                   detail="declares a range"),
    "xlsx with a far cell and no dimension": Hostile(lambda: far_cell_xlsx(None), "huge.xlsx", 422),
    "xlsx with a far cell and a lying dimension": Hostile(lambda: far_cell_xlsx("A1:A1"), "huge.xlsx", 422),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_hostile_upload_is_refused_stores_nothing_and_the_server_keeps_working(app, client, alice, case):
    response = post(client, alice, case.build(), case.filename, **case.form)
    body = assert_problem(response, case.status, case.field)
    if case.detail:
        assert case.detail.lower() in body["detail"].lower(), body
    assert "Traceback" not in body["detail"]
    assert_nothing_stored(app, client, alice)
    assert_normal_upload_works(app, client, alice)


def test_missing_file_part_is_a_422_naming_file(app, client, alice):
    assert_problem(post(client, alice, None, layout="transactions"), 422, "file")
    assert_nothing_stored(app, client, alice)
    assert_normal_upload_works(app, client, alice)


def test_file_part_sent_as_a_plain_field_is_a_422(app, client, alice):
    response = client.post("/api/upload", headers=alice.headers, data={"file": GOOD_CSV},
                           content_type="multipart/form-data")
    assert_problem(response, 422, "file")
    assert_nothing_stored(app, client, alice)


def test_upload_over_the_size_limit_is_a_413(app, client, alice):
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 4096
    try:
        body = assert_problem(post(client, alice, (GOOD_CSV * 100).encode(), "big.csv"), 413)
        assert "limit" in body["detail"]
        assert_nothing_stored(app, client, alice)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert_normal_upload_works(app, client, alice)


def test_the_default_size_limit_is_the_configured_megabytes(app):
    assert app.config["MAX_UPLOAD_MB"] * 2**20 < app.config["MAX_CONTENT_LENGTH"] <= (
        app.config["MAX_UPLOAD_MB"] * 2**20 + 2**20)


@pytest.fixture
def strict_app(app, monkeypatch):
    """A second app on the same database and folder whose archives may expand to 1 MB only."""
    monkeypatch.setenv("MAX_DECOMPRESSED_MB", "1")
    application = create_app(load_config("testing"))
    yield application
    application.extensions["db_engine"].dispose()


def incompressible_csv(size: int) -> bytes:
    rng = random.Random(3)
    lines, total = ["InvoiceNo,Description,Quantity"], 31
    while total < size:
        lines.append(f"{rng.randrange(10**6)},{rng.randbytes(24).hex()},{rng.randrange(1, 50)}")
        total += len(lines[-1]) + 1
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(("name", "wrap"), [
    ("sales.zip", lambda data: zipped({"sales.csv": data})),
    ("sales.csv.gz", gzip.compress),
])
def test_archives_expanding_past_max_decompressed_mb_are_refused(strict_app, name, wrap):
    client = strict_app.test_client()
    response = client.post("/api/auth/register", json={"username": "bob", "email": "bob@example.com",
                                                       "password": "correct horse 1"})
    headers = {"Authorization": f"Bearer {response.json['token']}"}
    data = wrap(incompressible_csv(3 * 2**20))
    assert len(data) < 3 * 2**20  # the archive itself is small; what it expands to is not
    fields = {"file": (io.BytesIO(data), name)}
    body = assert_problem(client.post("/api/upload", headers=headers, data=fields,
                                      content_type="multipart/form-data"), 422)
    assert "mb" in body["detail"].lower()
    assert client.get("/api/files", headers=headers).json["total"] == 0
    assert leftovers(strict_app.config["UPLOAD_DIR"]) == []
    small = {"file": (io.BytesIO(wrap(GOOD_CSV.encode())), name)}
    ok = client.post("/api/upload", headers=headers, data=small, content_type="multipart/form-data")
    assert ok.status_code == 201, ok.get_data(as_text=True)
    assert ok.json["rows"] == 2


@pytest.mark.parametrize(("client_name", "label"), [
    ("../../etc/passwd.csv", "passwd.csv"),
    ("/etc/cron.d/passwd.csv", "passwd.csv"),
    ("uploads/../../passwd.csv", "passwd.csv"),
    # In the multipart header a backslash escapes the next character, so the folders reach the app glued on.
    ("..\\..\\windows\\passwd.csv", "windowspasswd.csv"),
])
def test_path_traversal_filenames_are_reduced_to_a_harmless_label(app, client, alice, tmp_path, client_name, label):
    response = post(client, alice, GOOD_CSV.encode(), client_name)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["filename"] == label
    assert "/" not in response.json["filename"] and "\\" not in response.json["filename"]
    root = app.config["UPLOAD_DIR"]
    assert [p for p in tmp_path.rglob("*") if "passwd" in p.name or p.name in ("etc", "windows")] == []
    assert not (tmp_path.parent / "etc").exists()
    assert not Path("/etc/passwd.csv").exists()
    assert not Path("/etc/cron.d/passwd.csv").exists()
    for path in root.rglob("*"):
        assert path.resolve().is_relative_to(root.resolve())
    folders = [p for p in (root / f"user_{alice.user_id}").iterdir()]
    assert len(folders) == 1
    assert sorted(p.name for p in folders[0].iterdir()) == ["data.parquet", "original.csv"]
    got = client.get(f"/api/files/{response.json['file_id']}", headers=alice.headers).json
    assert got["filename"] == label


def test_zip_slip_member_names_write_nothing_outside_the_upload(app, client, alice, tmp_path):
    data = zipped({"../../../../zipslip.csv": GOOD_CSV.encode()})
    response = post(client, alice, data, "slip.zip")
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    assert [p for p in tmp_path.parent.rglob("zipslip*")] == []
    for path in app.config["UPLOAD_DIR"].rglob("*"):
        assert "zipslip" not in path.name
    if response.status_code == 201:
        assert response.json["rows"] == 2
        assert "/" not in response.json["source"]["inner_file"]
    else:
        assert_nothing_stored(app, client, alice)
