"""CLV: histories worked out by hand, likelihoods against the papers' formulas, the published CDNOW figures."""
import math

import numpy as np
import pandas as pd
import pytest

from services.analysis import clv_models as models
from services.analysis.clv import (
    ClvInputError,
    ClvParams,
    calibration_histories,
    clv_analysis,
    holdout_check,
    predict,
    purchase_days,
)
from tests.conftest import PUBLIC_DATA

CDNOW = PUBLIC_DATA / "cdnow_sample.txt"
FIXED = {"r": 0.7, "alpha": 3.5, "a": 1.3, "b": 2.2}


def lines(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer", "date", "amount"])
    frame["customer"] = frame["customer"].astype("string")
    frame["date"] = pd.to_datetime(frame["date"], format="ISO8601")
    return frame


FIVE_ROWS = lines(
    ("A", "2011-01-01 09:00", 10.0),
    ("A", "2011-01-01 17:00", 5.0),     # same day: one purchase day worth 15
    ("A", "2011-01-08 12:00", 20.0),    # first repeat day, one week later
    ("A", "2011-01-22 08:00", 30.0),    # second repeat day, three weeks after the first purchase
    ("B", "2011-01-15 10:00", 7.0),     # one purchase only
)


def test_histories_by_hand_in_weeks():
    table = calibration_histories(purchase_days(FIVE_ROWS), pd.Timestamp("2011-01-29"), 7.0)
    assert table.index.tolist() == ["A", "B"]
    assert table["frequency"].tolist() == [2, 0]
    assert table["recency"].tolist() == [3.0, 0.0]             # 21 days, 0 days
    assert table["T"].tolist() == [4.0, 2.0]                   # 28 days, 14 days
    assert table["monetary_value"].tolist() == [25.0, 0.0]     # (20 + 30) / 2; the first day's 15 is not repeat


def test_as_of_is_an_inclusive_calendar_day_and_months_are_a_twelfth_of_a_year():
    days = purchase_days(FIVE_ROWS)
    on_the_day = calibration_histories(days, pd.Timestamp("2011-01-22"), 7.0)
    assert on_the_day.loc["A", "frequency"] == 2 and on_the_day.loc["A", "T"] == 3.0
    day_before = calibration_histories(days, pd.Timestamp("2011-01-21"), 30.4375)
    assert day_before.loc["A"].tolist() == [1, 7 / 30.4375, 20 / 30.4375, 20.0]


def direct_bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T) -> float:
    """FHL 2005 eq. 6, written term by term with math.lgamma, one customer at a time."""
    def beta(p, q):
        return math.exp(math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q))

    total = 0.0
    for xi, ti, Ti in zip(x, t_x, T, strict=True):
        common = math.exp(math.lgamma(r + xi) - math.lgamma(r)) * alpha ** r
        likelihood = beta(a, b + xi) / beta(a, b) * common / (alpha + Ti) ** (r + xi)
        if xi > 0:
            likelihood += beta(a + 1, b + xi - 1) / beta(a, b) * common / (alpha + ti) ** (r + xi)
        total += math.log(likelihood)
    return total


def direct_gamma_gamma_log_likelihood(p, q, gamma, x, m_x) -> float:
    """Fader & Hardie 2013 eq. 5: Gamma(px+q) / (Gamma(px) Gamma(q)) gamma^q m^(px-1) x^px / (gamma + m x)^(px+q)."""
    total = 0.0
    for xi, mi in zip(x, m_x, strict=True):
        total += (math.lgamma(p * xi + q) - math.lgamma(p * xi) - math.lgamma(q) + q * math.log(gamma)
                  + (p * xi - 1) * math.log(mi) + p * xi * math.log(xi) - (p * xi + q) * math.log(gamma + mi * xi))
    return total


HISTORIES = {"x": np.array([0, 1, 2, 7, 0, 3]), "t_x": np.array([0, 2.0, 5.5, 30.1, 0, 12.0]),
             "T": np.array([4.0, 10.0, 38.86, 38.86, 0.5, 12.0])}


def test_bgnbd_likelihood_and_gradient_at_fixed_parameters():
    params = np.array(list(FIXED.values()))
    value, grad = models.bgnbd_log_likelihood(params, **HISTORIES, gradient=True)
    assert value == pytest.approx(direct_bgnbd_log_likelihood(*params, **HISTORIES), rel=1e-12)
    for i in range(4):      # the gradient is by log-parameter: d LL / d log(theta) ~ central difference in log space
        step = np.zeros(4)
        step[i] = 1e-6
        up = direct_bgnbd_log_likelihood(*(params * np.exp(step)), **HISTORIES)
        down = direct_bgnbd_log_likelihood(*(params * np.exp(-step)), **HISTORIES)
        assert grad[i] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-7)


def test_gamma_gamma_likelihood_and_gradient_at_fixed_parameters():
    x, m_x, params = np.array([1, 2, 5, 1]), np.array([20.0, 35.5, 12.25, 80.0]), np.array([4.0, 2.5, 12.0])
    value, grad = models.gamma_gamma_log_likelihood(params, x, m_x, gradient=True)
    assert value == pytest.approx(direct_gamma_gamma_log_likelihood(*params, x, m_x), rel=1e-12)
    for i in range(3):
        step = np.zeros(3)
        step[i] = 1e-6
        up = direct_gamma_gamma_log_likelihood(*(params * np.exp(step)), x, m_x)
        down = direct_gamma_gamma_log_likelihood(*(params * np.exp(-step)), x, m_x)
        assert grad[i] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-7)


def simulated_bgnbd(customers=10_000, seed=5):
    """Calibration histories drawn from the BG/NBD story: Poisson purchases at rate lambda ~ Gamma(r, alpha), and
    after each repeat purchase a drop-out chance p ~ Beta(a, b); first purchases over 12 of 39 weeks."""
    rng = np.random.default_rng(seed)
    rate, drop = rng.gamma(0.243, 1 / 4.414, customers), rng.beta(0.793, 2.426, customers)
    T = 39 - rng.integers(0, 84, customers) / 7
    clock, x, t_x, alive = np.zeros(customers), np.zeros(customers), np.zeros(customers), np.ones(customers, bool)
    while alive.any():
        clock += rng.exponential(1 / rate)
        alive &= clock < T
        x[alive] += 1
        t_x[alive] = clock[alive]
        alive &= rng.random(customers) >= drop
    return x, t_x, T


def test_bgnbd_fit_does_not_depend_on_the_time_unit():
    x, t_x, T = simulated_bgnbd()
    weeks, fine = models.fit_bgnbd(x, t_x, T), models.fit_bgnbd(x, t_x * 1e4, T * 1e4)
    assert weeks.converged and fine.converged
    for name in ("r", "a", "b"):
        assert fine.params[name] == pytest.approx(weeks.params[name], rel=1e-4)
    assert fine.params["alpha"] == pytest.approx(weeks.params["alpha"] * 1e4, rel=1e-4)
    assert fine.log_likelihood == pytest.approx(weeks.log_likelihood - x.sum() * math.log(1e4), rel=1e-9)
    assert weeks.log_likelihood == pytest.approx(direct_bgnbd_log_likelihood(*weeks.params.values(), x, t_x, T),
                                                 rel=1e-9)
    # the customers recover what they were drawn from (a and b singly are loosely pinned; their mean is not)
    assert weeks.params["r"] == pytest.approx(0.243, rel=0.1)
    assert weeks.params["alpha"] == pytest.approx(4.414, rel=0.1)
    assert weeks.params["a"] / (weeks.params["a"] + weeks.params["b"]) == pytest.approx(0.793 / 3.219, rel=0.15)


def test_gamma_gamma_fit_does_not_depend_on_the_currency():
    rng = np.random.default_rng(7)
    x = rng.integers(1, 10, 800)
    nu = rng.gamma(4.0, 1 / 15.0, 800)
    m_x = rng.gamma(6.0 * x, 1 / (nu * x))          # the mean of x purchases, each Gamma(p = 6, nu)
    cents, rupiah = models.fit_gamma_gamma(x, m_x), models.fit_gamma_gamma(x, m_x * 1e7)
    assert cents.converged and rupiah.converged
    assert rupiah.params["p"] == pytest.approx(cents.params["p"], rel=1e-4)
    assert rupiah.params["q"] == pytest.approx(cents.params["q"], rel=1e-4)
    assert rupiah.params["gamma"] == pytest.approx(cents.params["gamma"] * 1e7, rel=1e-4)
    assert rupiah.log_likelihood == pytest.approx(cents.log_likelihood - 800 * math.log(1e7), rel=1e-9)
    assert cents.log_likelihood == pytest.approx(
        direct_gamma_gamma_log_likelihood(*cents.params.values(), x, m_x), rel=1e-9)


def series_2f1(a, b, c, z, terms=2000) -> float:
    term, total = 1.0, 1.0
    for n in range(terms):
        term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        total += term
    return total


def test_expected_purchases_and_p_alive_follow_the_paper():
    r, alpha, a, b = FIXED.values()
    for x, t_x, T, t in ((0, 0.0, 10.0, 5.0), (3, 8.0, 12.0, 39.0)):
        death = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x else 0.0
        z = t / (alpha + T + t)
        expected = ((a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
                                                 * series_2f1(r + x, b + x, a + b + x - 1, z)) / (1 + death))
        assert models.expected_purchases(FIXED, x, t_x, T, t) == pytest.approx(expected, rel=1e-9)
        assert models.p_alive(FIXED, x, t_x, T) == pytest.approx(1 / (1 + death), rel=1e-12)


def test_expected_purchases_stay_finite_for_customers_with_thousands_of_purchases():
    r, alpha = FIXED["r"], FIXED["alpha"]
    x, t_x, T = 3000, 1090.0, 1095.0                          # a wholesaler buying almost daily for three years
    horizons = np.array([30.0, 365.0, 3653.0])
    expected = models.expected_purchases(FIXED, x, t_x, T, horizons)
    assert np.all(np.isfinite(expected)) and np.all(np.diff(expected) > 0)
    # never more than buying at the posterior mean rate for the whole horizon
    assert np.all((expected > 0) & (expected <= (r + x) / (alpha + T) * horizons))


def test_discounting_values_each_period_at_its_end():
    model = {"time_unit": "week", "unit_days": 7.0, "horizon": 10, "discount_rate": 0.2, "margin": 0.5,
             "bgnbd": FIXED, "gamma_gamma": {"p": 4.0, "q": 2.5, "gamma": 12.0}}
    answer = predict(model, 3, 8.0, 12.0, 30.0)
    weekly = 1.2 ** (7 / 365.25) - 1
    cumulative = [0.0] + [float(models.expected_purchases(FIXED, 3, 8.0, 12.0, k)) for k in range(1, 11)]
    discounted = sum((cumulative[k] - cumulative[k - 1]) / (1 + weekly) ** k for k in range(1, 11))
    value = (12.0 + 30.0 * 3) * 4.0 / (4.0 * 3 + 2.5 - 1)                 # Gamma-Gamma conditional mean
    assert answer["expected_value"] == pytest.approx(value, rel=1e-6)
    assert answer["expected_purchases"] == pytest.approx(cumulative[10], rel=1e-6)
    assert answer["clv"] == pytest.approx(discounted * value * 0.5, rel=1e-6)
    undiscounted = predict({**model, "discount_rate": 0.0}, 3, 8.0, 12.0, 30.0)
    assert undiscounted["clv"] == pytest.approx(cumulative[10] * value * 0.5, rel=1e-6)
    assert undiscounted["clv"] > answer["clv"]


def test_holdout_counts_repeat_days_of_calibration_customers_in_the_horizon():
    days = purchase_days(lines(
        ("A", "2011-01-01", 1.0), ("A", "2011-01-03", 1.0), ("A", "2011-01-03 18:00", 1.0),  # one day
        ("A", "2011-01-08", 1.0),                     # last day of a 7-day horizon after 2011-01-01
        ("A", "2011-01-09", 1.0),                     # beyond it
        ("B", "2011-01-01", 1.0), ("C", "2011-01-02", 1.0)))   # C is new: not in calibration
    table = calibration_histories(days, pd.Timestamp("2011-01-01"), 1.0).assign(expected_purchases=[1.5, 0.25])
    warnings = []
    holdout = holdout_check(days, table, pd.Timestamp("2011-01-01"), 7.0, warnings)
    assert holdout == {"from": "2011-01-02", "to": "2011-01-08", "customers": 2, "actual_purchases": 2,
                       "predicted_purchases": 1.75, "mae": (0.5 + 0.25) / 2, "new_customers_ignored": 1}
    assert warnings == []
    assert holdout_check(days, table, pd.Timestamp("2011-01-09"), 7.0, warnings) is None


def test_bad_input_is_a_clv_error_with_the_reason():
    with pytest.raises(ClvInputError, match="before the first purchase"):
        clv_analysis(FIVE_ROWS, ClvParams(as_of=pd.Timestamp("2010-12-31")))
    with pytest.raises(ClvInputError, match="two different days"):
        clv_analysis(lines(("A", "2011-01-01 09:00", 1.0), ("A", "2011-01-01 10:00", 2.0),
                           ("B", "2011-01-05", 3.0)), ClvParams())
    with pytest.raises(ClvInputError, match="no customer has a dated purchase"):
        clv_analysis(lines(("A", None, 1.0)), ClvParams())
    for params in ({"time_unit": "year"}, {"horizon": 0}, {"time_unit": "month", "horizon": 121},
                   {"time_unit": "day", "horizon": 600, "discount_rate": 0.1}, {"discount_rate": -0.1},
                   {"margin": 0.0}, {"margin": 1.5}):
        with pytest.raises(ClvInputError):
            ClvParams(**params)
    model = {"time_unit": "week", "unit_days": 7.0, "horizon": 52, "discount_rate": 0.0, "margin": 1.0,
             "bgnbd": FIXED, "gamma_gamma": {"p": 4.0, "q": 2.5, "gamma": 12.0}}
    for history in ((1.5, 1, 2, 10), (-1, 0, 2, 10), (2, 3, 2, 10), (0, 1, 2, 10), (1, 1, 0, 10)):
        with pytest.raises(ClvInputError):
            predict(model, *history)


def test_a_fit_that_cannot_converge_returns_with_warnings():
    # everyone buys every week until as_of for the same amount: no one seems to die and spend does not vary,
    # so the maximum lies at the edge of the parameter space
    view = lines(*((f"c{c}", pd.Timestamp("2020-01-06") + pd.Timedelta(weeks=w), 10.0)
                   for c in range(12) for w in range(10)))
    result = clv_analysis(view, ClvParams(as_of=pd.Timestamp("2020-03-09")))
    assert result.summary["model"]["bgnbd"]["converged"] is False
    assert result.summary["model"]["gamma_gamma"]["converged"] is False
    text = " ".join(result.summary["warnings"])
    assert "BG/NBD fit did not converge" in text and "Gamma-Gamma fit did not converge" in text
    assert "only 12 customers made a repeat purchase" in text
    assert result.summary["holdout"] is None and len(result.customers) == 12


def test_non_positive_spend_is_left_out_of_gamma_gamma():
    rows = [(f"c{c}", f"2020-01-{d:02d}", 10.0 + c + d) for c in range(8) for d in (1, 5, 9)]
    rows += [("refund", "2020-01-01", 10.0), ("refund", "2020-01-04", -10.0), ("once", "2020-01-03", 4.0)]
    result = clv_analysis(lines(*rows), ClvParams(time_unit="day", horizon=30))
    assert result.summary["repeat_customers"] == 9
    assert result.summary["model"]["gamma_gamma"]["customers"] == 8
    assert any("1 repeat customers with a non-positive mean spend" in w for w in result.summary["warnings"])
    rows = result.customers.set_index("customer_id")
    assert rows.loc["refund", "expected_value"] == pytest.approx(rows.loc["once", "expected_value"])


@pytest.fixture(scope="module")
def cdnow():
    if not CDNOW.exists():
        pytest.skip(f"the CDNOW sample is not at {CDNOW} (../shared beside the checkout)")
    raw = pd.read_csv(CDNOW, sep=r"\s+", header=None, names=["master_id", "customer", "date", "cds", "amount"],
                      dtype={"master_id": str, "customer": "string", "date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw


def test_cdnow_gives_the_published_figures(cdnow):
    assert cdnow["customer"].nunique() == 2357 and len(cdnow) == 6919
    # 39 weeks from 1997-01-01 end on 1997-09-30, which belongs to the calibration period
    assert pd.Timestamp("1997-01-01") + pd.Timedelta(weeks=39) - pd.Timedelta(days=1) == pd.Timestamp("1997-09-30")
    result = clv_analysis(cdnow, ClvParams(as_of=pd.Timestamp("1997-09-30"), time_unit="week", horizon=39))
    summary = result.summary
    bgnbd, gamma_gamma = summary["model"]["bgnbd"], summary["model"]["gamma_gamma"]
    assert [round(bgnbd[k], 3) for k in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]   # FHL 2005
    assert round(bgnbd["log_likelihood"], 1) == -9582.4 and bgnbd["converged"]
    assert [round(gamma_gamma[k], 2) for k in ("p", "q", "gamma")] == [6.25, 3.74, 15.44]           # F&H 2013
    assert gamma_gamma["converged"] and summary["warnings"] == []
    answer = predict(result.model, 2, 30.43, 38.86, 0.0, horizon=39)
    assert round(answer["expected_purchases"], 3) == 1.226                                             # FHL 2005

    calibration = cdnow[cdnow["date"] <= "1997-09-30"]
    days_per_customer = calibration.groupby("customer")["date"].nunique()
    assert summary["customers"] == len(days_per_customer) == 2357
    assert summary["repeat_customers"] == int((days_per_customer > 1).sum()) == gamma_gamma["customers"] == 946
    holdout_days = cdnow[(cdnow["date"] > "1997-09-30") & (cdnow["date"] <= "1998-06-30")] \
        .drop_duplicates(["customer", "date"])
    assert summary["holdout"]["actual_purchases"] == len(holdout_days)
    assert summary["holdout"]["predicted_purchases"] == pytest.approx(result.customers["expected_purchases"].sum())


def test_predict_reproduces_the_cdnow_rows(cdnow):
    result = clv_analysis(cdnow, ClvParams(as_of=pd.Timestamp("1997-09-30"), discount_rate=0.1, margin=0.3))
    for row in result.customers.sample(20, random_state=3).itertuples():
        answer = predict(result.model, row.frequency, row.recency, row.T, row.monetary_value)
        for name in ("p_alive", "expected_purchases", "expected_value", "clv"):
            assert answer[name] == pytest.approx(getattr(row, name), rel=1e-5, abs=1e-6)
