"""Column roles (invoice, customer, item, ...): detected from header names in several languages and from content."""
from __future__ import annotations

import re
import unicodedata

import pandas as pd

from services.errors import Invalid

ROLES = ("invoice", "customer", "item", "description", "quantity", "unit_price", "amount", "date", "country",
         "status")
ID_ROLES = ("invoice", "customer", "item")
NUMERIC_ROLES = ("quantity", "unit_price", "amount")

# Header names, compared after normalise_name(); first match wins, so order matters within a role.
ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "invoice": ("invoiceno", "invoice", "invoicenumber", "invoiceid", "orderid", "orderno", "ordernumber",
                "order", "transactionid", "transactionno", "transaction", "receiptno", "receiptid", "receipt",
                "billno", "basketid", "ticketid", "nofacture", "nfacture", "numfacture", "numerofacture",
                "facture", "commande",
                "idcommande", "nofaktur", "nomorfaktur", "faktur", "idtransaksi", "notransaksi", "pedido",
                "numeropedido", "factura", "rechnungsnummer", "bestellnummer", "เลขที่ใบเสร็จ", "เลขที่คำสั่งซื้อ"),
    "customer": ("customerid", "customerno", "customernumber", "customer", "custid", "clientid", "client",
                 "memberid", "membernumber", "member", "userid", "buyerid", "idclient", "numeroclient",
                 "idpelanggan", "kodepelanggan", "pelanggan", "idcliente", "cliente", "kundennummer", "kunde",
                 "รหัสลูกค้า", "ลูกค้า"),
    "item": ("stockcode", "productid", "productcode", "itemid", "itemcode", "sku", "articleid", "article",
             "codeproduit", "refproduit", "reference", "kodebarang", "kodeproduk", "idproduk", "codigo",
             "artikelnummer", "รหัสสินค้า"),
    "description": ("description", "productname", "itemdescription", "itemname", "product", "item", "itemdesc",
                    "designation", "libelle", "nomproduit", "produit", "namabarang", "namaproduk", "produk",
                    "descripcion", "producto", "beschreibung", "artikel", "ชื่อสินค้า", "สินค้า"),
    "quantity": ("quantity", "qty", "quantite", "qte", "units", "jumlah", "kuantitas", "qtd", "cantidad",
                 "menge", "anzahl", "จำนวน"),
    "unit_price": ("unitprice", "price", "priceeach", "unitcost", "prixunitaire", "prix", "hargasatuan",
                   "harga", "preciounitario", "precio", "einzelpreis", "preis", "ราคาต่อหน่วย", "ราคา"),
    "amount": ("amount", "sales", "totalprice", "linetotal", "total", "totalamount", "revenue", "subtotal",
               "montant", "montanttotal", "chiffredaffaires", "totalharga", "total_harga", "importe", "umsatz",
               "betrag", "ยอดขาย", "ยอดรวม"),
    "date": ("invoicedate", "orderdate", "transactiondate", "purchasedate", "saledate", "date", "datetime",
             "timestamp", "datefacture", "datecommande", "tanggal", "tanggaltransaksi", "fecha", "datum", "วันที่"),
    "country": ("country", "countryregion", "pays", "negara", "pais", "land", "ประเทศ"),
    "status": ("status", "orderstatus", "transactionstatus", "invoicestatus", "statut", "statutcommande", "estado",
               "estadopedido", "statuspesanan", "statustransaksi", "bestellstatus", "สถานะ"),
}
# Second pass, for headers no alias names exactly: a role keyword with a qualifier before or after it
# ("CUSTOMERNAME", "QUANTITYORDERED", "OrderQty"), still checked against the content.
ROLE_TOKENS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # role: (prefixes, keywords, suffixes), all normalised
    "invoice": (("", "sales", "sale", "customer", "pos"),
                ("invoice", "order", "transaction", "receipt", "bill", "ticket", "basket", "facture", "commande",
                 "faktur", "transaksi", "pedido", "factura", "rechnung", "bestellung"),
                ("id", "no", "nr", "num", "number", "code", "key", "ref")),
    "customer": (("", "end"),
                 ("customer", "cust", "client", "member", "buyer", "shopper", "account", "kunde", "kunden",
                  "pelanggan", "cliente", "ลูกค้า"),
                 ("", "id", "no", "nr", "num", "number", "name", "code", "key", "ref", "nom", "nama", "nombre")),
    "item": (("stock", "product", "prod", "item", "article", "variant"),
             ("sku", "code", "id", "number", "no", "ref"), ("",)),
    "description": (("product", "item", "article", "stock"),
                    ("name", "description", "desc", "title", "label"), ("",)),
    "quantity": (("", "order", "ordered", "item", "sold", "line", "purchase"),
                 ("quantity", "qty", "quantite", "units", "menge", "anzahl", "cantidad", "jumlah", "kuantitas"),
                 ("", "ordered", "sold", "purchased", "bought")),
    "unit_price": (("", "unit", "sale", "sales", "selling", "item", "product", "retail", "list"),
                   ("price", "prix", "preis", "precio", "harga"), ("", "each", "perunit", "unit")),
}


def normalise_name(name: str) -> str:
    """Lower-case, accents removed, only letters and digits kept (Thai letters survive)."""
    decomposed = unicodedata.normalize("NFKD", str(name))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^\w]|_", "", stripped.casefold())


def detect_roles(sample: pd.DataFrame) -> dict[str, str]:
    """Map each role to at most one column of `sample`, by name first and then by content for dates."""
    by_name: dict[str, str] = {}
    for column in sample.columns:
        by_name.setdefault(normalise_name(column), column)
    roles: dict[str, str] = {}
    used: set[str] = set()
    for role in ROLES:
        for alias in _NORMALISED_ALIASES[role]:
            column = by_name.get(alias)
            if column is not None and column not in used and _content_fits(role, sample[column]):
                roles[role] = column
                used.add(column)
                break
    for role, pattern in _TOKEN_PATTERNS.items():
        if role in roles:
            continue
        column = next((c for name, c in by_name.items() if c not in used and pattern.fullmatch(name)
                       and _content_fits(role, sample[c])), None)
        if column is not None:
            roles[role] = column
            used.add(column)
    if "date" not in roles:
        for column in sample.columns:
            if column not in used and looks_like_dates(sample[column]):
                roles["date"] = column
                break
    if "item" not in roles and "description" not in roles:
        column = next((c for name, c in by_name.items() if c not in used and _names_a_thing(name, sample[c])), None)
        if column is not None:
            roles["item"] = column
    if "item" not in roles and "description" in roles:
        roles["item"] = roles["description"]  # groceries-style logs name items only by description
    return roles


_COMPACT_DATE = r"(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])"


def content_roles(sample: pd.DataFrame) -> dict[str, str]:
    """Roles of a file without a header, from its content alone: yyyymmdd numbers are the date, the first
    zero-padded code that repeats is the customer, the first other whole-number column the quantity, and a column
    of decimals the amount (as in CDNOW's id, index, date, CDs, dollars)."""
    roles: dict[str, str] = {}
    for column in sample.columns:
        values = sample[column].dropna().astype(str).str.strip()
        values = values[values != ""]
        if values.empty:
            continue
        if "date" not in roles and values.str.fullmatch(_COMPACT_DATE).all():
            roles["date"] = column
        elif values.str.fullmatch(r"\d+").all():
            padded = values.str.len().nunique() == 1 and values.str.startswith("0").any()
            if padded and "customer" not in roles and values.nunique() < len(values):
                roles["customer"] = column
            elif not padded and "quantity" not in roles:
                roles["quantity"] = column
        elif "amount" not in roles and values.str.fullmatch(r"-?\d+\.\d+|-?\d+").all():
            roles["amount"] = column
    return roles


def apply_overrides(roles: dict[str, str], overrides: dict, columns: list[str]) -> dict[str, str]:
    """Apply a client's {role: column} mapping (null removes a role); unknown roles or columns are 422."""
    merged = dict(roles)
    for role, column in overrides.items():
        if role not in ROLES:
            raise Invalid.field(f"columns.{role}", f"unknown role; roles are {', '.join(ROLES)}")
        if column is None:
            merged.pop(role, None)
            continue
        if column not in columns:
            raise Invalid.field(f"columns.{role}", f"no column {column!r}; the file has {', '.join(map(str, columns))}")
        merged[role] = column
    return merged


# Which stored column types (see reader.column_type) each role can use.
ROLE_COLUMN_TYPES = {
    "invoice": ("text", "integer"), "customer": ("text", "integer"), "item": ("text", "integer"),
    "description": ("text", "integer"), "country": ("text",), "date": ("datetime",),
    "quantity": ("integer", "number"), "unit_price": ("integer", "number"), "amount": ("integer", "number"),
    "status": ("text", "integer"),
}


def check_role_types(roles: dict[str, str], column_types: dict[str, str]) -> None:
    """422 when a role points at a column of the wrong type (say, a date role on a text column)."""
    for role, column in roles.items():
        kind = column_types.get(column)
        if kind is not None and kind not in ROLE_COLUMN_TYPES[role]:
            raise Invalid.field(f"columns.{role}", f"column {column!r} holds {kind} values; {role} needs "
                                                    f"{' or '.join(ROLE_COLUMN_TYPES[role])}")


def require_roles(roles: dict[str, str], needed: tuple[str, ...], columns: list[str], purpose: str) -> None:
    """Raise 422 naming each missing role and the columns the file has."""
    missing = [role for role in needed if role not in roles]
    if missing:
        raise Invalid(
            f"{purpose} needs a column for: {', '.join(missing)}; the file has {', '.join(map(str, columns))}. "
            f"Name them with columns={{\"{missing[0]}\": \"<column>\"}}",
            errors=[{"field": f"columns.{role}", "message": "no column has this role"} for role in missing],
        )


_DATE_TEXT = (r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
              r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?( ?[AaPp][Mm])?")
_NORMALISED_ALIASES = {role: tuple(normalise_name(a) for a in aliases) for role, aliases in ROLE_ALIASES.items()}
_TOKEN_PATTERNS = {role: re.compile("({})({})({})".format(*("|".join(map(re.escape, part)) for part in parts)))
                   for role, parts in ROLE_TOKENS.items()}
STATUS_MAX_DISTINCT = 50


def _content_fits(role: str, values: pd.Series) -> bool:
    """Reject a name match whose content clearly contradicts the role (e.g. a 'Date' column of words)."""
    present = values.dropna()
    present = present[present.astype(str).str.strip() != ""]
    if present.empty:
        return True
    if role == "date":
        return looks_like_dates(values)
    if role in NUMERIC_ROLES:
        return pd.api.types.is_numeric_dtype(present) or _share_numeric(present) >= 0.8
    if role == "status":  # a handful of words, not numbers or free text
        return not pd.api.types.is_numeric_dtype(present) and present.nunique() <= STATUS_MAX_DISTINCT \
            and _share_numeric(present) < 0.5
    if role in ("item", "description") and pd.api.types.is_float_dtype(present):
        return bool((present == present.round()).all())  # prices or weights are not product codes
    return True


def _names_a_thing(name: str, values: pd.Series) -> bool:
    """A last guess at the item column ("pizza_id"): an id or code name over repeated words, not numbers."""
    if not re.search(r"(id|code|sku|name)$", name):
        return False
    present = values.dropna().astype(str).str.strip()
    present = present[present != ""]
    return len(present) > 1 and _share_numeric(present) < 0.5 and present.nunique() <= len(present) // 2


def _share_numeric(values: pd.Series) -> float:
    text = values.astype(str).str.strip().str.replace(r"[\s$€£¥₹฿%]", "", regex=True)
    return float(text.str.fullmatch(r"[-+(]?\d[\d.,']*\)?").mean())


def looks_like_dates(values: pd.Series) -> bool:
    """True when at least 80% of the non-empty values are written like dates."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    present = values.dropna().astype(str).str.strip()
    present = present[present != ""]
    if present.empty or pd.api.types.is_numeric_dtype(values):
        return False
    return float(present.str.fullmatch(_DATE_TEXT).mean()) >= 0.8
