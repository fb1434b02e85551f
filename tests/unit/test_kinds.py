"""The kind registry and params parsing: JSON types as they are, 422 field paths, each kind's cleaning defaults."""
from __future__ import annotations

import pandas as pd
import pytest

from services.analysis.kinds import ANALYSIS_TYPES, KINDS, get_kind, kinds_with
from services.errors import Invalid


def fields_of(excinfo) -> list[str]:
    return [error["field"] for error in excinfo.value.errors]


def test_the_registry_holds_the_four_kinds_by_name():
    assert ANALYSIS_TYPES == ("cleaning", "rfm", "basket", "statistical")
    assert all(KINDS[name].name == name for name in ANALYSIS_TYPES)
    assert kinds_with("extras", "predict") == ["rfm"] and kinds_with("filters", "item") == ["basket"]
    with pytest.raises(Invalid) as caught:
        get_kind("magic")
    assert fields_of(caught) == ["type"]


@pytest.mark.parametrize(("kind", "params", "field"), [
    ("rfm", {"k_min": "3"}, "params.k_min"),  # a string is not a number
    ("rfm", {"k_min": 3.0}, "params.k_min"),  # nor a float a whole number
    ("rfm", {"k_max": False}, "params.k_max"),  # nor a boolean
    ("rfm", {"n_clusters": None}, "params.n_clusters"),
    ("basket", {"min_support": "0.1"}, "params.min_support"),
    ("basket", {"min_support": 10**400}, "params.min_support"),
    ("statistical", {"clean": "yes"}, "params.clean"),
    ("statistical", {"cleaning": {"duplicates": 1}}, "params.cleaning.duplicates"),
    ("statistical", {"cleaning": []}, "params.cleaning"),
    ("cleaning", {"exclude_statuses": ["ok", 3]}, "params.exclude_statuses"),
    ("cleaning", {"cleaning": {}}, "params.cleaning"),  # the cleaning report takes its rules at the top
    ("basket", {"top_n": 3}, "params.top_n"),  # another kind's parameter
])
def test_mistyped_or_unknown_params_are_422_naming_the_field(kind, params, field):
    with pytest.raises(Invalid) as caught:
        get_kind(kind).parse(params)
    assert fields_of(caught) == [field]


def test_range_checks_of_the_params_name_the_field_under_params():
    with pytest.raises(Invalid) as caught:
        get_kind("rfm").parse({"n_clusters": 50})
    assert fields_of(caught) == ["params.n_clusters"]
    with pytest.raises(Invalid) as caught:
        get_kind("basket").parse({"cleaning": {"outliers": "explode"}})
    assert fields_of(caught) == ["params.cleaning.outliers"]


def test_values_arrive_as_the_params_take_them():
    request = get_kind("rfm").parse({"as_of": "2011-12-10", "n_clusters": "auto", "columns": {"customer": None}})
    assert request.specific.as_of == pd.Timestamp("2011-12-10") and request.specific.n_clusters == "auto"
    assert request.columns == {"customer": None} and request.clean is True
    basket = get_kind("basket").parse({"min_support": 1, "cleaning": None})
    assert basket.specific.min_support == 1.0 and isinstance(basket.specific.min_support, float)
    cleaning = get_kind("cleaning").parse({"exclude_statuses": ["void"], "clean": False})
    assert cleaning.cleaning.exclude_statuses == ("void",) and cleaning.clean is False and cleaning.specific is None


def test_each_kind_has_its_cleaning_defaults_and_the_client_overrides_them():
    assert get_kind("cleaning").parse({}).cleaning.outliers == "flag"
    assert get_kind("rfm").parse({}).cleaning.missing_customer is True
    assert get_kind("basket").parse({}).cleaning.missing_customer is False
    assert get_kind("statistical").parse({}).cleaning.outliers == "off"
    assert get_kind("basket").parse({"cleaning": {"missing_customer": True}}).cleaning.missing_customer is True
