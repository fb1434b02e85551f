"""Analyses through the HTTP API: run, read, page, download, seed shortcuts, jobs, failures and isolation."""
import io
import time
import uuid

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models.tables import analyses, rfm_rows
from tests.conftest import SALES, TEST_DATA, TEST_REDIS_URL, assert_problem, upload


def process(client, account, file_id, kind, **params):
    return client.post("/api/process", headers=account.headers,
                       json={"file_id": file_id, "type": kind, "params": params})


@pytest.fixture
def alice(auth):
    return auth.register("alice")


def test_cleaning_counts_rows_and_keeps_the_removed_ones(client, alice):
    file_id = upload(client, alice)["file_id"]
    response = process(client, alice, file_id, "cleaning")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "finished" and body["type"] == "cleaning"
    assert body["download"] == f"analysis-{body['analysis_id']}-cleaning.csv"
    summary = body["summary"]
    assert (summary["rows_in"], summary["rows_out"]) == (10, 6)
    assert summary["removed"] == {"missing_customer": 2, "missing_item": 0, "unparseable_dates": 0,
                                  "cancellations": 1, "non_positive_quantity": 1, "non_positive_price": 0,
                                  "duplicates": 0}
    removed = client.get(f"/api/analyses/{body['analysis_id']}/results?per_page=2", headers=alice.headers).json
    assert removed["total"] == 4 and len(removed["items"]) == 2
    assert removed["items"][0]["removed_reason"] == "cancellations" and removed["items"][0]["removed_row"] == 5
    cleaned = client.get(f"/api/download/{body['download']}", headers=alice.headers)
    assert cleaned.status_code == 200 and cleaned.mimetype == "text/csv"
    lines = cleaned.get_data(as_text=True).splitlines()
    assert len(lines) == 7
    assert "'=HYPERLINK" in lines[4]


def test_rfm_rows_pages_filters_and_extras(client, alice):
    file_id = upload(client, alice)["file_id"]
    response = process(client, alice, file_id, "rfm", n_clusters=2)
    assert response.status_code == 200, response.json
    analysis_id = response.json["analysis_id"]
    summary = response.json["summary"]
    assert summary["total_customers"] == 4 and summary["clusters"] == 2
    assert summary["as_of"] == "2011-03-06T16:00:00"
    assert summary["cleaning"]["rows_out"] == 6
    rows = client.get(f"/api/analyses/{analysis_id}/results?sort=monetary&order=desc", headers=alice.headers).json
    assert rows["total"] == 4
    first = rows["items"][0]
    assert first == {**first, "customer_id": "c2", "recency": 1, "frequency": 2, "monetary": 26.0}
    assert set(first) == {"customer_id", "recency", "frequency", "monetary", "r_score", "f_score", "m_score",
                          "rfm_score", "segment", "cluster"}
    segment = first["segment"]
    only = client.get(f"/api/analyses/{analysis_id}/results?segment={segment}", headers=alice.headers).json
    assert only["total"] >= 1 and all(r["segment"] == segment for r in only["items"])
    cluster = client.get(f"/api/analyses/{analysis_id}/results?cluster=0", headers=alice.headers).json
    assert all(r["cluster"] == 0 for r in cluster["items"])
    assert_problem(client.get(f"/api/analyses/{analysis_id}/results?sort=password", headers=alice.headers), 422)

    elbow = client.get(f"/api/analyses/{analysis_id}/elbow", headers=alice.headers)
    assert elbow.status_code == 200 and elbow.json["k"] == [2, 3]
    clusters = client.get(f"/api/analyses/{analysis_id}/clusters", headers=alice.headers).json
    assert sum(p["customers"] for p in clusters["cluster_profiles"]) == 4
    predicted = client.post(f"/api/analyses/{analysis_id}/predict", headers=alice.headers,
                            json={"recency": 1, "frequency": 2, "monetary": 26.0})
    assert predicted.status_code == 200
    assert (predicted.json["r_score"], predicted.json["segment"]) == (first["r_score"], first["segment"])
    assert_problem(client.post(f"/api/analyses/{analysis_id}/predict", headers=alice.headers,
                               json={"recency": "soon"}), 422)
    sheet = client.get(f"/api/analyses/{analysis_id}/download?format=xlsx", headers=alice.headers)
    assert sheet.status_code == 200
    workbook = load_workbook(io.BytesIO(sheet.data))
    assert workbook.active.max_row == 5


def test_seed_002_rfm_on_the_real_sample(client, alice, sample_file):
    with sample_file.open("rb") as handle:
        uploaded = client.post("/api/upload", headers=alice.headers, data={"file": (handle, sample_file.name)},
                               content_type="multipart/form-data")
    file_id = uploaded.json["file_id"]
    response = client.post(f"/api/rfm/process/{file_id}", headers=alice.headers)
    assert response.status_code == 200, response.json
    assert response.json["message"] == "RFM processing complete"
    assert (response.json["total_customers"], response.json["clusters"]) == (3591, 5)
    rows = client.get(f"/api/rfm/results/{file_id}", headers=alice.headers).json
    assert isinstance(rows, list) and len(rows) == 3591
    assert all(isinstance(row["customer_id"], str) and not row["customer_id"].endswith(".0") for row in rows[:50])


def test_statistical_kpis_are_exact(client, alice):
    file_id = upload(client, alice)["file_id"]
    response = process(client, alice, file_id, "statistical", top_n=2)
    assert response.status_code == 200, response.json
    kpis = response.json["summary"]["kpis"]
    # kept: rows 1-4, 7 (guest, kept for statistics), 9, 10 -> 3.00+3.00+6.00+10.00+3.00+4.50+20.00
    assert kpis["total_revenue"] == 49.5
    assert kpis["total_orders"] == 6
    assert kpis["unique_customers"] == 4
    assert kpis["avg_order_value"] == 8.25
    assert len(response.json["summary"]["top_products"]) == 2
    table = client.get(f"/api/analyses/{response.json['analysis_id']}/results", headers=alice.headers).json
    assert {"section": "kpis", "label": "total_revenue", "value": 49.5} in table["items"]


@pytest.mark.parametrize(("kind", "params", "field"), [
    ("rfm", {"n_clusters": "many"}, "params.n_clusters"),
    ("rfm", {"clusters": 3}, "params.clusters"),
    ("rfm", {"as_of": "yesterday-ish"}, "params.as_of"),
    ("statistical", {"top_n": 0}, "params.top_n"),
    ("statistical", {"cleaning": {"duplicates": "yes"}}, "params.cleaning.duplicates"),
    ("cleaning", {"outliers": "explode"}, "params.outliers"),
    ("rfm", {"columns": {"customer": "Nope"}}, "columns.customer"),
])
def test_bad_params_are_422_and_store_nothing(app, client, alice, kind, params, field):
    file_id = upload(client, alice)["file_id"]
    assert_problem(process(client, alice, file_id, kind, **params), 422, field)
    with app.extensions["db_engine"].connect() as conn:
        assert conn.execute(select(func.count()).select_from(analyses)).scalar_one() == 0


def test_body_validation(client, alice):
    assert_problem(client.post("/api/process", headers=alice.headers, json={"type": "rfm"}), 422, "file_id")
    assert_problem(client.post("/api/process", headers=alice.headers, json={"file_id": 1, "type": "magic"}),
                   422, "type")
    assert_problem(client.post("/api/process", headers=alice.headers, json={"file_id": 999, "type": "rfm"}), 404)


def test_a_missing_role_is_422_naming_it_now_or_as_a_job_and_nothing_is_stored(client, alice):
    body = "Order,Product,Qty,Price\n1,A,1,2.0\n2,B,2,3.0\n"
    file_id = upload(client, alice, body, "no_customer.csv")["file_id"]
    for headers in (alice.headers, {**alice.headers, "Prefer": "respond-async"}):
        response = client.post("/api/process", headers=headers, json={"file_id": file_id, "type": "rfm"})
        problem = assert_problem(response, 422, "columns.customer")
        assert "customer" in problem["detail"] and "Order, Product, Qty, Price" in problem["detail"]
    assert client.get(f"/api/analyses?file_id={file_id}", headers=alice.headers).json["total"] == 0
    with GROCERIES.open("rb") as handle:
        baskets = client.post("/api/upload", headers=alice.headers, data={"file": (handle, "groceries.csv")},
                              content_type="multipart/form-data").json["file_id"]
    assert_problem(process(client, alice, baskets, "statistical"), 422, "columns.amount")


def test_too_few_customers_for_the_clusters(client, alice):
    file_id = upload(client, alice)["file_id"]
    assert_problem(process(client, alice, file_id, "rfm", n_clusters=9), 422, "n_clusters")


def test_a_failure_while_saving_leaves_no_rows(app, client, alice, monkeypatch):
    file_id = upload(client, alice)["file_id"]
    import models.analyses as analysis_dao

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    original = analysis_dao.set_status
    monkeypatch.setattr(analysis_dao, "set_status",
                        lambda conn, aid, status, *a, **k: broken() if status == "finished"
                        else original(conn, aid, status, *a, **k))
    response = process(client, alice, file_id, "rfm", n_clusters=2)
    assert_problem(response, 500)
    with app.extensions["db_engine"].connect() as conn:
        assert conn.execute(select(func.count()).select_from(rfm_rows)).scalar_one() == 0
        assert conn.execute(select(analyses.c.status)).scalar_one() == "failed"


def test_list_get_delete_and_isolation(client, auth, alice):
    file_id = upload(client, alice)["file_id"]
    first = process(client, alice, file_id, "statistical").json["analysis_id"]
    second = process(client, alice, file_id, "rfm", n_clusters=2).json["analysis_id"]
    listed = client.get("/api/analyses?type=rfm", headers=alice.headers).json
    assert [a["analysis_id"] for a in listed["items"]] == [second]
    assert client.get(f"/api/analyses/{first}", headers=alice.headers).json["summary"]["kpis"]
    bob = auth.register("bob")
    for path in (f"/api/analyses/{first}", f"/api/analyses/{first}/results", f"/api/analyses/{second}/elbow",
                 f"/api/analyses/{first}/download", f"/api/download/analysis-{first}-statistical.csv",
                 f"/api/rfm/results/{file_id}"):
        assert_problem(client.get(path, headers=bob.headers), 404)
    assert_problem(client.delete(f"/api/analyses/{first}", headers=bob.headers), 404)
    assert client.delete(f"/api/analyses/{first}", headers=alice.headers).status_code == 200
    assert_problem(client.get(f"/api/analyses/{first}", headers=alice.headers), 404)
    assert client.delete(f"/api/files/{file_id}", headers=alice.headers).status_code == 200
    assert_problem(client.get(f"/api/analyses/{second}", headers=alice.headers), 404)


@pytest.mark.parametrize("name", ["../../etc/passwd", "analysis-1-rfm.exe", "analysis-x-rfm.csv", "report.csv",
                                  "analysis-99999999999-rfm.csv"])
def test_download_names_never_become_paths(client, alice, name):
    assert_problem(client.get(f"/api/download/{name}", headers=alice.headers), 404)


def test_wrong_type_extras_are_refused(client, alice):
    file_id = upload(client, alice)["file_id"]
    stats_id = process(client, alice, file_id, "statistical").json["analysis_id"]
    assert_problem(client.get(f"/api/analyses/{stats_id}/elbow", headers=alice.headers), 422)
    assert_problem(client.get(f"/api/analyses/{stats_id}/recommendations?item=Cup", headers=alice.headers), 422)


def test_async_job_runs_and_reports(client, alice):
    file_id = upload(client, alice)["file_id"]
    response = client.post("/api/process", headers={**alice.headers, "Prefer": "respond-async"},
                           json={"file_id": file_id, "type": "rfm", "params": {"n_clusters": 2}})
    assert response.status_code == 202
    location = response.headers["Location"]
    assert location == f"/api/jobs/{response.json['job_id']}"
    deadline = time.monotonic() + 60
    job = response.json
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        job = client.get(location, headers=alice.headers).json
    assert job["status"] == "finished" and job["progress"] == 100
    analysis = client.get(f"/api/analyses/{job['analysis_id']}", headers=alice.headers).json
    assert analysis["status"] == "finished" and analysis["summary"]["total_customers"] == 4
    assert_problem(client.delete(location, headers=alice.headers), 409)
    assert_problem(client.get("/api/jobs/nope", headers=alice.headers), 404)


def test_dashboard_and_results(client, alice):
    empty = client.get("/api/dashboard", headers=alice.headers).json
    assert (empty["files_uploaded"], empty["total_revenue"], empty["by_month"]) == (0, 0, [])
    file_id = upload(client, alice)["file_id"]
    process(client, alice, file_id, "statistical")
    dashboard = client.get(f"/api/dashboard?file_id={file_id}", headers=alice.headers).json
    assert dashboard["total_revenue"] == 49.5 and dashboard["files_uploaded"] == 1
    assert dashboard["analyses_run"] == 1 and len(dashboard["recent_analyses"]) == 1
    assert [m["label"] for m in dashboard["by_month"]] == ["2011-01", "2011-02", "2011-03"]
    results = client.get("/api/results", headers=alice.headers).json
    assert results["summary"]["total_orders"] == 6
    assert results["by_country"][0]["label"] == "France"


GROCERIES = TEST_DATA / "groceries.csv"


def test_groceries_basket_file_gives_the_arules_rule_count_through_the_api(client, alice):
    with GROCERIES.open("rb") as handle:
        uploaded = client.post("/api/upload", headers=alice.headers, data={"file": (handle, "groceries.csv")},
                               content_type="multipart/form-data")
    assert uploaded.status_code == 201 and uploaded.json["layout"] == "baskets"
    file_id = uploaded.json["file_id"]
    response = process(client, alice, file_id, "basket", min_support=0.001, min_confidence=0.8, min_lift=0,
                       max_rules=1000)
    assert response.status_code == 200, response.json
    summary = response.json["summary"]
    assert (summary["transactions"], summary["items"], summary["rules"]) == (9835, 169, 410)
    assert summary["truncated"] is False and summary["min_count"] == 10
    analysis_id = response.json["analysis_id"]
    rules = client.get(f"/api/analyses/{analysis_id}/results?per_page=500", headers=alice.headers).json
    assert rules["total"] == 410
    first = rules["items"][0]
    assert set(first) == {"antecedents", "consequents", "count", "support", "confidence", "lift", "leverage",
                          "conviction"}
    assert len(first["consequents"]) == 1 and first["confidence"] >= 0.8
    milk = client.get(f"/api/analyses/{analysis_id}/results?item=whole milk&per_page=500",
                      headers=alice.headers).json
    assert 0 < milk["total"] < 410
    assert all("whole milk" in r["antecedents"] + r["consequents"] for r in milk["items"])
    assert client.get(f"/api/analyses/{analysis_id}/itemsets?per_page=1", headers=alice.headers).json["total"] \
        == 13492
    again = process(client, alice, file_id, "basket", min_support=0.006, min_confidence=0.25, min_lift=0)
    assert again.json["summary"]["rules"] == 463


def test_basket_rules_recommendations_and_download(client, alice):
    body = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" + "".join(
        f"{i},{code},{name},1,2011-01-0{1 + i % 9} 10:00,1.0,c{i % 3},UK\n"
        for i, items in enumerate([["A", "B"], ["A", "B"], ["A", "B", "C"], ["A", "C"], ["B", "C"], ["A", "B"]])
        for code, name in ((c, {"A": "Bread", "B": "Butter", "C": "=Jam"}[c]) for c in items))
    file_id = upload(client, alice, body)["file_id"]
    response = process(client, alice, file_id, "basket", min_support=0.3, min_confidence=0.5, min_lift=0)
    assert response.status_code == 200, response.json
    analysis_id = response.json["analysis_id"]
    assert response.json["summary"]["transactions"] == 6
    rules = client.get(f"/api/analyses/{analysis_id}/results?sort=count&order=desc", headers=alice.headers).json
    bread_butter = next(r for r in rules["items"] if r["antecedents"] == ["Bread"] and r["consequents"] == ["Butter"])
    # Bread in 5 baskets, Butter in 5, both in 4: support 4/6, confidence 4/5, lift (4/5)/(5/6) = 0.96
    assert bread_butter["count"] == 4
    assert bread_butter["confidence"] == pytest.approx(0.8)
    assert bread_butter["lift"] == pytest.approx(0.96)
    ranked = client.get(f"/api/analyses/{analysis_id}/recommendations?item=Bread", headers=alice.headers).json
    assert ranked["item"] == "Bread" and ranked["recommendations"][0]["item"] in ("Butter", "=Jam")
    assert_problem(client.get(f"/api/analyses/{analysis_id}/recommendations", headers=alice.headers), 422, "item")
    csv_text = client.get(f"/api/analyses/{analysis_id}/download", headers=alice.headers).get_data(as_text=True)
    assert "'=Jam" in csv_text and ",=Jam" not in csv_text
    assert_problem(process(client, alice, file_id, "basket", min_support=0), 422, "params.min_support")
    exploded = process(client, alice, file_id, "basket", min_support=0.01, max_itemsets=2)
    assert_problem(exploded, 422)


def test_jobs_run_on_rq_when_redis_is_configured(monkeypatch, database_url, tmp_path, shared_redis):
    from rq import Queue, SimpleWorker

    import services.runtime.worker as worker_module
    from app import create_app
    from config import load_config

    connection = shared_redis
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("RETENTION_THREAD", "false")
    queue_name = f"test-analyses-{uuid.uuid4().hex}"
    monkeypatch.setenv("RQ_QUEUE", queue_name)
    monkeypatch.setattr(worker_module, "_app", None)
    queue = Queue(queue_name, connection=connection)
    queue.empty()
    application = create_app(load_config("testing"))
    client = application.test_client()
    token = client.post("/api/auth/register", json={"username": "rqer", "email": "rq@example.com",
                                                    "password": "rq password 1"}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    file_id = client.post("/api/upload", headers=headers, data={"file": (io.BytesIO(SALES.encode()), "s.csv")},
                          content_type="multipart/form-data").json["file_id"]
    accepted = client.post("/api/process", headers={**headers, "Prefer": "respond-async"},
                           json={"file_id": file_id, "type": "statistical", "params": {}})
    assert accepted.status_code == 202
    job_id = accepted.json["job_id"]
    assert client.get(f"/api/jobs/{job_id}", headers=headers).json["status"] == "queued"
    assert queue.job_ids == [job_id]
    SimpleWorker([queue], connection=connection).work(burst=True)
    job = client.get(f"/api/jobs/{job_id}", headers=headers).json
    assert job["status"] == "finished", job
    analysis = client.get(f"/api/analyses/{job['analysis_id']}", headers=headers).json
    assert analysis["summary"]["kpis"]["total_revenue"] == 49.5
    connection.flushdb()  # the limiter counted in Redis DB 15 too; leave it empty


def test_cancelling_a_queued_job(app, client, alice, monkeypatch):
    queued = []
    monkeypatch.setattr(app.extensions["services"].jobs.queue, "enqueue", lambda job_id, _: queued.append(job_id))
    file_id = upload(client, alice)["file_id"]
    accepted = client.post("/api/process", headers={**alice.headers, "Prefer": "respond-async"},
                           json={"file_id": file_id, "type": "rfm", "params": {}})
    job_id = accepted.json["job_id"]
    assert queued == [job_id]
    cancelled = client.delete(f"/api/jobs/{job_id}", headers=alice.headers)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    app.extensions["services"].jobs.run_job(job_id)  # a worker picking it up later does nothing
    assert client.get(f"/api/jobs/{job_id}", headers=alice.headers).json["status"] == "cancelled"
    analysis = client.get(f"/api/analyses/{accepted.json['analysis_id']}", headers=alice.headers).json
    assert analysis["status"] == "cancelled"
    assert_problem(client.get(f"/api/analyses/{accepted.json['analysis_id']}/results", headers=alice.headers), 409)


@pytest.mark.parametrize(("params", "field"), [
    ({"columns": {"date": "Country"}}, "columns.date"),
    ({"columns": {"amount": "Description"}}, "columns.amount"),
    ({"columns": {"customer": "InvoiceDate"}}, "columns.customer"),
    ({"columns": ["CustomerID"]}, "params.columns"),
    ({"as_of": "now"}, "params.as_of"),
    ({"as_of": ""}, "params.as_of"),
    ({"cleaning": {"outlier_threshold": 10**400}}, "params.cleaning.outlier_threshold"),
    ({"k_max": True}, "params.k_max"),
])
def test_roles_and_values_of_the_wrong_type_are_422(client, alice, params, field):
    file_id = upload(client, alice)["file_id"]
    assert_problem(process(client, alice, file_id, "rfm", **params), 422, field)


def test_hostile_json_shapes(client, alice):
    deep = "[" * 50_000 + "]" * 50_000
    response = client.post("/api/auth/login", data=f'{{"identifier": {deep}, "password": "x"}}',
                           content_type="application/json")
    assert response.status_code in (400, 422) and response.mimetype == "application/problem+json"
    file_id = upload(client, alice)["file_id"]
    assert_problem(process(client, alice, file_id, "basket", country="\ud800"), 422)
    assert_problem(client.post("/api/process", headers=alice.headers,
                               json={"file_id": 1.5, "type": "rfm", "params": {}}), 422, "file_id")
    assert_problem(client.get("/api/files?page=9223372036854775808", headers=alice.headers), 422, "page")


def test_prefer_header_is_parsed_as_rfc_7240(app, client, alice, monkeypatch):
    monkeypatch.setattr(app.extensions["services"].jobs.queue, "enqueue", lambda *_ids: None)
    file_id = upload(client, alice)["file_id"]
    body = {"file_id": file_id, "type": "statistical", "params": {}}
    for prefer, status in (("respond-async, wait=10", 202), ("Respond-Async", 202), ("no-respond-async", 200),
                           ("return=minimal", 200)):
        response = client.post("/api/process", headers={**alice.headers, "Prefer": prefer}, json=body)
        assert response.status_code == status, prefer
        if status == 202:
            assert response.headers["Preference-Applied"] == "respond-async"


def test_a_dead_queue_fails_the_analysis_cleanly(app, client, alice, monkeypatch):
    def refuse(job_id, analysis_id):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(app.extensions["services"].jobs.queue, "enqueue", refuse)
    file_id = upload(client, alice)["file_id"]
    response = client.post("/api/process", headers={**alice.headers, "Prefer": "respond-async"},
                           json={"file_id": file_id, "type": "rfm", "params": {}})
    assert_problem(response, 503)
    listed = client.get("/api/analyses", headers=alice.headers).json["items"]
    assert [a["status"] for a in listed] == ["failed"]


def test_deleting_the_file_during_a_run_leaves_nothing_behind(app, client, alice, monkeypatch):
    import services.analysis.rfm as rfm_module

    file_id = upload(client, alice)["file_id"]
    original = rfm_module.rfm_analysis

    def delete_first(view, params):
        app.extensions["services"].files.delete_file(alice.user_id, file_id)
        return original(view, params)

    monkeypatch.setattr(rfm_module, "rfm_analysis", delete_first)
    assert_problem(process(client, alice, file_id, "rfm", n_clusters=2), 404)
    leftovers = [p for p in app.config["UPLOAD_DIR"].rglob("*") if p.is_file()]
    assert leftovers == []
    assert client.get("/api/analyses", headers=alice.headers).json["total"] == 0


def test_big_json_numbers_are_400_not_500(client, alice):
    huge = "9" * 5000
    for path in ("/api/auth/login", "/api/process"):
        response = client.post(path, headers=alice.headers, data=f'{{"file_id": {huge}, "identifier": "x"}}',
                               content_type="application/json")
        assert response.status_code == 400 and response.mimetype == "application/problem+json", path


def test_filters_that_do_not_apply_are_422_and_empty_rule_downloads_keep_their_header(client, alice):
    file_id = upload(client, alice)["file_id"]
    rfm_id = process(client, alice, file_id, "rfm", n_clusters=2).json["analysis_id"]
    assert_problem(client.get(f"/api/analyses/{rfm_id}/results?item=Cup", headers=alice.headers), 422, "item")
    basket_id = process(client, alice, file_id, "basket", min_support=1.0).json["analysis_id"]
    assert_problem(client.get(f"/api/analyses/{basket_id}/results?segment=Lost", headers=alice.headers), 422)
    empty = client.get(f"/api/analyses/{basket_id}/download", headers=alice.headers).get_data(as_text=True)
    assert empty.splitlines() == ["antecedents,consequents,count,support,confidence,lift,leverage,conviction"]
    assert_problem(client.get(f"/api/download/analysis-0{basket_id}-basket.csv", headers=alice.headers), 404)


def test_a_download_name_must_match_the_analysis_type(client, alice):
    file_id = upload(client, alice)["file_id"]
    analysis_id = process(client, alice, file_id, "statistical").json["analysis_id"]
    assert client.get(f"/api/download/analysis-{analysis_id}-statistical.xlsx", headers=alice.headers).status_code \
        == 200
    assert_problem(client.get(f"/api/download/analysis-{analysis_id}-rfm.csv", headers=alice.headers), 404)


def test_ids_may_be_digit_strings_but_not_booleans_floats_or_other_text(client, alice):
    file_id = upload(client, alice)["file_id"]
    response = process(client, alice, str(file_id), "cleaning")
    assert response.status_code == 200, response.json
    assert response.json["file_id"] == file_id
    for bad in (True, False, 1.5, float(file_id), f"{file_id}.0", f" {file_id}", "", "abc", "0", "-1", "١",
                "9" * 40, None, [file_id]):
        assert_problem(process(client, alice, bad, "cleaning"), 422, "file_id")
