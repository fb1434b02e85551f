"""ResultDAO on both backends: item filters match whole item names only (LIKE wildcards and the key separator in
names are literal), exact filters, paging and sorting, and every read stays inside its analysis."""
from __future__ import annotations

import pytest

from models import results as result_dao
from models.database import create_db_engine
from models.pagination import Page
from tests.factories import make_analysis, make_file, make_user

ITEMS = ["50% off", "500 off", "a_b", "axb", "back\\slash", "unit\x1fsep", "cup", "cupboard"]


@pytest.fixture
def engine(database_url):
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def rule(antecedent: str, consequent: str, count: int) -> dict:
    return {"antecedents": [antecedent], "consequents": [consequent], "count": count, "support": count / 100,
            "confidence": 0.5, "lift": 1.5, "leverage": 0.01, "conviction": None}


@pytest.fixture
def basket(engine) -> tuple[int, int]:
    """Two basket analyses: the first with a rule item -> "tea" per item in ITEMS, the second with one rule."""
    with engine.begin() as conn:
        owner = make_user(conn)
        file_id = make_file(conn, owner)
        first, second = make_analysis(conn, owner, file_id), make_analysis(conn, owner, file_id)
        result_dao.insert_rules(conn, first, [rule(item, "tea", count) for count, item in enumerate(ITEMS, 1)])
        result_dao.insert_itemsets(conn, first, [{"items": [item, "tea"], "size": 2, "count": count,
                                                  "support": count / 100} for count, item in enumerate(ITEMS, 1)])
        result_dao.insert_rules(conn, second, [rule("cup", "tea", 99)])
    return first, second


@pytest.mark.parametrize("item", ITEMS)
def test_an_item_filter_finds_that_item_only(engine, basket, item):
    first, _second = basket
    with engine.connect() as conn:
        rules = result_dao.all_results(conn, "basket_rules", first, item)
        total, itemsets = result_dao.result_page(conn, "frequent_itemsets", first, Page(), {"item": item})
    assert [r["antecedents"] for r in rules] == [[item]]
    assert total == 1 and itemsets[0]["items"] == [item, "tea"]


@pytest.mark.parametrize("pattern", ["50_ off", "%", "a%b", "_", "cup%", "up", "unit", "sep", "back"])
def test_wildcards_and_parts_of_names_match_nothing(engine, basket, pattern):
    first, _second = basket
    with engine.connect() as conn:
        assert result_dao.all_results(conn, "basket_rules", first, pattern) == []


def test_the_separator_in_a_name_is_a_space_in_the_key(engine, basket):
    first, _second = basket
    with engine.connect() as conn:  # "unit\x1fsep" was keyed as "unit sep": both spellings find it
        assert len(result_dao.all_results(conn, "basket_rules", first, "unit sep")) == 1
        assert result_dao.all_results(conn, "basket_rules", first, "unit\x1fsep")[0]["antecedents"] == ["unit\x1fsep"]


def test_reads_stay_inside_their_analysis_and_keep_the_written_order(engine, basket):
    first, second = basket
    with engine.connect() as conn:
        assert [r["count"] for r in result_dao.all_results(conn, "basket_rules", second)] == [99]
        assert [r["count"] for r in result_dao.all_results(conn, "basket_rules", first)] == list(range(1, 9))
        assert [r["count"] for r in result_dao.all_results(conn, "basket_rules", first, "cup")] == [7]
        columns = list(result_dao.all_results(conn, "basket_rules", first)[0])
    assert columns == result_dao.result_columns("basket_rules") and "items_key" not in columns


def test_pages_sort_by_a_column_with_the_id_as_tiebreak(engine, basket):
    first, _second = basket
    with engine.connect() as conn:
        total, rows = result_dao.result_page(conn, "basket_rules", first, Page(page=2, per_page=3, sort="count",
                                                                               order="desc"))
    assert total == 8 and [r["count"] for r in rows] == [5, 4, 3]


def test_rfm_rows_filter_by_exact_segment_and_cluster(engine):
    with engine.begin() as conn:
        owner = make_user(conn)
        analysis = make_analysis(conn, owner, make_file(conn, owner), "rfm")
        rows = [{"customer_id": f"c{i}", "recency": i, "frequency": 1, "monetary": 10.0, "r_score": 1, "f_score": 1,
                 "m_score": 1, "rfm_score": "111", "segment": segment, "cluster": i % 2}
                for i, segment in enumerate(["Lost", "Lost%", "lost", "At Risk", "Lost"])]
        assert result_dao.insert_rfm_rows(conn, analysis, rows) == 5
    with engine.connect() as conn:
        total, lost = result_dao.result_page(conn, "rfm_rows", analysis, Page(), {"segment": "Lost"})
        both = result_dao.result_page(conn, "rfm_rows", analysis, Page(), {"segment": "Lost", "cluster": 0})
        nothing = result_dao.result_page(conn, "rfm_rows", analysis, Page(), {"segment": ""})
    # SQLite compares case-sensitively, and MariaDB's utf8mb4 collation would not: the column is binary on both
    assert total == 2 and [r["customer_id"] for r in lost] == ["c0", "c4"]
    assert both == (2, lost)
    assert nothing == (0, [])


def test_a_filter_a_table_does_not_take_is_refused(engine, basket):
    first, _second = basket
    with engine.connect() as conn, pytest.raises(ValueError, match="segment does not filter basket_rules"):
        result_dao.result_page(conn, "basket_rules", first, Page(), {"segment": "Lost"})
