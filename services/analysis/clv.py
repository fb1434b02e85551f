"""Customer lifetime value: calibration histories, BG/NBD + Gamma-Gamma fits, per-customer forecasts, holdout check."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.analysis import clv_models as models
from services.errors import Invalid

logger = logging.getLogger(__name__)
DAYS_PER_YEAR = 365.25
# A month is a twelfth of the mean (Julian) year: 12 months are exactly the year the discount rate is quoted for,
# and no calendar month length (28..31) is favoured.
UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": DAYS_PER_YEAR / 12}
MAX_HORIZON_DAYS = 3653  # ten years: beyond that a forecast says little
# Discounting evaluates eq. 10 once per period and distinct (frequency, T): ~1 s for 23,570 customers x 520 periods
MAX_DISCOUNTED_PERIODS = 520
MIN_REPEAT_CUSTOMERS = 30  # below this the four BG/NBD parameters rest on too few repeat buyers to trust
TOP_CUSTOMERS = 10


class ClvInputError(Invalid):
    """The data or parameters cannot feed the CLV models (422 with the reason)."""


@dataclass(frozen=True)
class ClvParams:
    """as_of (a calendar day; default the day after the last purchase), time unit, horizon in units, yearly discount
    rate and margin."""

    as_of: pd.Timestamp | None = None
    time_unit: str = "week"
    horizon: int = 52
    discount_rate: float = 0.0
    margin: float = 1.0

    def __post_init__(self) -> None:
        if self.time_unit not in UNIT_DAYS:
            raise ClvInputError.field("time_unit", f"must be one of {', '.join(UNIT_DAYS)}")
        if not (math.isfinite(self.discount_rate) and 0 <= self.discount_rate <= 10):
            raise ClvInputError.field("discount_rate", "must be a yearly rate from 0 to 10 (0.1 = 10 % a year)")
        check_horizon(self.horizon, self.time_unit, self.discount_rate)
        if not (math.isfinite(self.margin) and 0 < self.margin <= 1):
            raise ClvInputError.field("margin", "must be a share of revenue above 0 and at most 1")


@dataclass
class ClvResult:
    """One row per calibration customer, the summary, and the model that `predict` needs."""

    customers: pd.DataFrame
    summary: dict
    model: dict


def clv_analysis(view: pd.DataFrame, params: ClvParams) -> ClvResult:
    """Fit BG/NBD and Gamma-Gamma on the histories up to as_of of a cleaned canonical view and value each customer."""
    days = purchase_days(view)
    as_of = _as_of(days, params.as_of)
    unit_days = UNIT_DAYS[params.time_unit]
    table = calibration_histories(days, as_of, unit_days)
    repeat = table["frequency"].to_numpy() > 0
    if not repeat.any():
        raise ClvInputError(f"no customer bought on two different days up to as_of {as_of.date()}: BG/NBD and "
                            "Gamma-Gamma learn from repeat purchases")
    x, t_x, T = (table[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T"))
    m_x = table["monetary_value"].to_numpy(dtype="float64")
    spend = repeat & (m_x > 0)
    if not spend.any():
        raise ClvInputError("no repeat customer has a positive mean spend: Gamma-Gamma cannot be fitted")
    bgnbd = models.fit_bgnbd(x, t_x, T)
    gamma_gamma = models.fit_gamma_gamma(x[spend], m_x[spend])
    model = {"time_unit": params.time_unit, "unit_days": unit_days, "horizon": params.horizon,
             "discount_rate": params.discount_rate, "margin": params.margin,
             "bgnbd": bgnbd.params, "gamma_gamma": gamma_gamma.params}
    # repeat customers without positive spend are valued like newcomers: at the population's mean spend
    scores = score(model, x, t_x, T, m_x, spend_purchases=np.where(spend, x, 0))
    table = table.assign(**scores)
    warnings = _warnings(bgnbd, gamma_gamma, int(repeat.sum()), int((repeat & ~spend).sum()), table)
    holdout = holdout_check(days, table, as_of, params.horizon * unit_days, warnings)
    summary = {
        "as_of": as_of.date().isoformat(), "time_unit": params.time_unit, "unit_days": unit_days,
        "horizon": params.horizon, "discount_rate": params.discount_rate, "margin": params.margin,
        "customers": len(table), "repeat_customers": int(repeat.sum()),
        "model": {"bgnbd": _fit_summary(bgnbd), "gamma_gamma": {**_fit_summary(gamma_gamma),
                                                                "customers": int(spend.sum())}},
        "totals": {"clv": _round(np.nansum(table["clv"]), 2),
                   "expected_purchases": _round(table["expected_purchases"].sum(), 4),
                   "mean_p_alive": _round(table["p_alive"].mean(), 4)},
        "top_customers": _top(table),
        "holdout": holdout,
        "warnings": warnings,
    }
    return ClvResult(table.reset_index(), summary, model)


def purchase_days(view: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and calendar day with the day's total amount: several orders on one day are one
    purchase, as lifetimes and CLVTools count them."""
    lines = view.dropna(subset=["customer", "date", "amount"])
    days = (lines.assign(day=lines["date"].dt.normalize())
            .groupby(["customer", "day"], sort=True, observed=True)["amount"].sum().reset_index())
    if days.empty:
        raise ClvInputError("no customer has a dated purchase with an amount to analyse after cleaning")
    return days


def calibration_histories(days: pd.DataFrame, as_of: pd.Timestamp, unit_days: float) -> pd.DataFrame:
    """Per customer with a purchase day up to as_of (inclusive): frequency (repeat purchase days), recency (first to
    last purchase day) and T (first purchase day to as_of) in units, and monetary_value (mean repeat day's amount,
    0 without repeats)."""
    calibration = days[days["day"] <= as_of]
    grouped = calibration.groupby("customer", sort=True, observed=True)
    first = grouped["day"].min()
    frequency = grouped.size() - 1
    repeat_amount = grouped["amount"].sum() - grouped["amount"].first()  # rows are sorted by day within customer
    table = pd.DataFrame({
        "frequency": frequency.astype("int64"),
        "recency": (grouped["day"].max() - first).dt.days / unit_days,
        "T": (as_of - first).dt.days / unit_days,
        "monetary_value": (repeat_amount / frequency.where(frequency > 0)).fillna(0.0),
    })
    table.index.name = "customer_id"
    return table


def score(model: dict, x, t_x, T, m_x, spend_purchases=None, horizon: int | None = None) -> dict:
    """p_alive, expected_purchases over the horizon, expected_value per purchase and (discounted) clv for histories;
    `spend_purchases` is the purchase count the spend model sees (default x)."""
    horizon = model["horizon"] if horizon is None else horizon
    bgnbd = model["bgnbd"]
    rate = per_period_rate(model["discount_rate"], model["unit_days"])
    purchases = models.expected_purchases(bgnbd, x, t_x, T, horizon)
    discounted = models.discounted_purchases(bgnbd, x, t_x, T, horizon, rate) if rate else purchases
    value = models.expected_spend(model["gamma_gamma"], x if spend_purchases is None else spend_purchases, m_x)
    return {"p_alive": models.p_alive(bgnbd, x, t_x, T), "expected_purchases": purchases, "expected_value": value,
            "clv": discounted * value * model["margin"]}


def per_period_rate(yearly_rate: float, unit_days: float) -> float:
    """The rate per time unit that compounds to the yearly rate over 365.25 days: (1 + yearly)^(days / 365.25) - 1."""
    return (1.0 + yearly_rate) ** (unit_days / DAYS_PER_YEAR) - 1.0


def predict(model: dict, frequency: float, recency: float, T: float, monetary_value: float,
            horizon: int | None = None) -> dict:
    """p_alive, expected_purchases, expected_value and clv for a new history (in the model's time unit)."""
    for name, value in (("frequency", frequency), ("recency", recency), ("T", T), ("monetary_value", monetary_value)):
        if not math.isfinite(value):
            raise ClvInputError.field(name, "must be a finite number")
    if frequency < 0 or frequency != int(frequency):
        raise ClvInputError.field("frequency", "must be a whole number of repeat purchase days, 0 or more")
    if not 0 <= recency <= T:
        raise ClvInputError.field("recency", "must satisfy 0 <= recency <= T")
    if frequency == 0 and recency != 0:
        raise ClvInputError.field("recency", "is 0 for a customer without repeat purchases")
    if horizon is not None:
        check_horizon(horizon, model["time_unit"], model["discount_rate"])
    spend = frequency if monetary_value > 0 else 0
    result = score(model, np.array([frequency]), np.array([recency]), np.array([T]), np.array([monetary_value]),
                   spend_purchases=np.array([spend]), horizon=horizon)
    return {name: _round(values[0], 6) for name, values in result.items()}


def check_horizon(horizon: int, time_unit: str, discount_rate: float) -> None:
    """422 unless the horizon is a whole number of units within ten years (and 520 periods when discounting)."""
    longest = int(MAX_HORIZON_DAYS // UNIT_DAYS[time_unit])
    if discount_rate > 0:
        longest = min(longest, MAX_DISCOUNTED_PERIODS)
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or not 1 <= horizon <= longest:
        raise ClvInputError.field("horizon", f"must be a whole number of {time_unit}s from 1 to {longest}"
                                             + (" when discounting" if discount_rate > 0 else " (ten years)"))


def holdout_check(days: pd.DataFrame, table: pd.DataFrame, as_of: pd.Timestamp, horizon_days: float,
                  warnings: list[str]) -> dict | None:
    """Actual repeat purchase days in (as_of, as_of + horizon] of the calibration customers against their expected
    purchases; None when the file has no purchase after as_of."""
    later = days[days["day"] > as_of]
    if later.empty:
        return None
    end = as_of + pd.Timedelta(days=math.floor(horizon_days))
    window = later[later["day"] <= end]
    known = table.index.get_indexer(window["customer"]) >= 0  # a hash lookup; isin on arrow strings loops in Python
    actual = window[known].groupby("customer", observed=True).size().reindex(table.index, fill_value=0)
    if days["day"].max() < end:
        warnings.append(f"the file ends on {days['day'].max().date()}, before the horizon does ({end.date()}): "
                        "the holdout's actual purchases cover only part of it")
    expected = table["expected_purchases"]
    return {"from": (as_of + pd.Timedelta(days=1)).date().isoformat(), "to": end.date().isoformat(),
            "customers": len(table), "actual_purchases": int(actual.sum()),
            "predicted_purchases": _round(expected.sum(), 4),
            "mae": _round((actual - expected).abs().mean(), 4),
            "new_customers_ignored": int(window.loc[~known, "customer"].nunique())}


def _as_of(days: pd.DataFrame, requested: pd.Timestamp | None) -> pd.Timestamp:
    first = days["day"].min()
    if requested is None:
        return days["day"].max() + pd.Timedelta(days=1)
    as_of = pd.Timestamp(requested)
    as_of = (as_of.tz_convert(None) if as_of.tzinfo else as_of).normalize()
    if as_of < first:
        raise ClvInputError.field("as_of", f"{as_of.date()} is before the first purchase ({first.date()}): there is "
                                           "no history to calibrate on")
    return as_of


def _warnings(bgnbd: models.Fit, gamma_gamma: models.Fit, repeat: int, unspent: int, table: pd.DataFrame) -> list:
    warnings = [f"{name} fit did not converge ({fit.message}); its estimates are the best found"
                for name, fit in (("BG/NBD", bgnbd), ("Gamma-Gamma", gamma_gamma)) if not fit.converged]
    if repeat < MIN_REPEAT_CUSTOMERS:
        warnings.append(f"only {repeat} customers made a repeat purchase (fewer than {MIN_REPEAT_CUSTOMERS}): "
                        "the estimates are uncertain")
    if unspent:
        warnings.append(f"{unspent} repeat customers with a non-positive mean spend were left out of the Gamma-Gamma "
                        "fit and valued at the population's mean spend")
    if table["expected_value"].isna().any():
        warnings.append("Gamma-Gamma q <= 1: the mean spend of customers without repeat purchases is unbounded, "
                        "so their expected_value and clv are left empty")
    if not np.isfinite(table["expected_purchases"]).all():
        warnings.append("some expected purchases could not be computed (the model's series diverged)")
    return warnings


def _fit_summary(fit: models.Fit) -> dict:
    return {**{name: float(f"{value:.7g}") for name, value in fit.params.items()},
            "log_likelihood": _round(fit.log_likelihood, 4), "converged": fit.converged}


def _top(table: pd.DataFrame) -> list[dict]:
    best = table.sort_values("clv", ascending=False, na_position="last").head(TOP_CUSTOMERS)
    return [{"customer_id": str(customer), "clv": _round(row.clv, 2), "expected_purchases":
             _round(row.expected_purchases, 4), "p_alive": _round(row.p_alive, 4),
             "expected_value": _round(row.expected_value, 2)} for customer, row in best.iterrows()]


def _round(value, digits: int) -> float | None:
    """A JSON-safe rounded float: None for NaN or infinity."""
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None
