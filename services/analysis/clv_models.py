"""BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader & Hardie 2013): closed-form likelihoods, fits, forecasts."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1
from threadpoolctl import threadpool_limits

logger = logging.getLogger(__name__)
# Log-parameters are searched in a box so exp() stays finite. A maximum beyond e^+-10 (time and spend in units of
# their means) is the likelihood still rising towards 0 or infinity, as when every customer spends the same: no
# finite maximum, so not converged.
LOG_BOUND = 15.0
LOG_PLAUSIBLE = 10.0
MAX_ITERATIONS = 500


@dataclass(frozen=True)
class Fit:
    """Maximum likelihood estimates by name, the log-likelihood there, and whether the optimiser converged."""

    params: dict
    log_likelihood: float
    converged: bool
    message: str


def bgnbd_log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                         weights: np.ndarray | None = None, gradient: bool = False):
    """Sum of FHL 2005 eq. 6 over customers (x repeat purchases, last at t_x, observed for T) at (r, alpha, a, b);
    with `gradient`, also its derivative with respect to the log of each parameter."""
    r, alpha, a, b = params
    weights = np.ones_like(x) if weights is None else weights
    repeat = x > 0
    shape = r + x
    log_first = -shape * np.log(alpha + T)
    # a / (b + x - 1) * (alpha + t_x)^-(r + x): the term of customers who may have died after their last purchase
    log_second = np.where(repeat, np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - shape * np.log(alpha + t_x),
                          -np.inf)
    per_customer = (gammaln(shape) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
                    + np.logaddexp(log_first, log_second))
    total = float(weights @ per_customer)
    if not gradient:
        return total
    died = np.where(repeat, expit(log_second - log_first), 0.0)  # share of the second term in the sum
    lived = 1.0 - died
    d_r = digamma(shape) - digamma(r) + np.log(alpha) - lived * np.log(alpha + T) - died * np.log(alpha + t_x)
    d_alpha = r / alpha - shape * (lived / (alpha + T) + died / (alpha + t_x))
    d_a = digamma(a + b) - digamma(a + b + x) + died / a
    d_b = (digamma(b + x) - digamma(a + b + x) - digamma(b) + digamma(a + b)
           - died / np.where(repeat, b + x - 1, 1.0))
    grad = np.array([weights @ d for d in (d_r, d_alpha, d_a, d_b)]) * params
    return total, grad


def gamma_gamma_log_likelihood(params: np.ndarray, x: np.ndarray, m_x: np.ndarray,
                               weights: np.ndarray | None = None, gradient: bool = False):
    """Sum over repeat customers of the Gamma-Gamma density of their mean spend m_x over x purchases at (p, q, gamma);
    with `gradient`, also its derivative with respect to the log of each parameter."""
    p, q, gamma = params
    weights = np.ones_like(x) if weights is None else weights
    shape = p * x + q
    log_total = np.log(gamma + m_x * x)
    per_customer = (gammaln(shape) - gammaln(p * x) - gammaln(q) + q * np.log(gamma) + (p * x - 1) * np.log(m_x)
                    + p * x * np.log(x) - shape * log_total)
    total = float(weights @ per_customer)
    if not gradient:
        return total
    d_p = x * (digamma(shape) - digamma(p * x) + np.log(m_x) + np.log(x) - log_total)
    d_q = digamma(shape) - digamma(q) + np.log(gamma) - log_total
    d_gamma = q / gamma - shape / (gamma + m_x * x)
    grad = np.array([weights @ d for d in (d_p, d_q, d_gamma)]) * params
    return total, grad


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> Fit:
    """Maximum likelihood (r, alpha, a, b) of the BG/NBD for these histories."""
    # alpha is a time scale: fitting in units of the mean T keeps it inside the search box whatever the time unit,
    # then alpha and the density (lambda^x, so a factor scale^-x per customer) are scaled back
    scale = float(np.mean(T)) or 1.0
    (x, t_x, T), weights, _ = _distinct(x, np.asarray(t_x, dtype="float64") / scale,
                                        np.asarray(T, dtype="float64") / scale)
    fit = _maximise(lambda p: bgnbd_log_likelihood(p, x, t_x, T, weights=weights, gradient=True), np.zeros(4),
                    ("r", "alpha", "a", "b"))
    return Fit({**fit.params, "alpha": fit.params["alpha"] * scale},
               fit.log_likelihood - float(weights @ x) * math.log(scale), fit.converged, fit.message)


def fit_gamma_gamma(x: np.ndarray, m_x: np.ndarray) -> Fit:
    """Maximum likelihood (p, q, gamma) of the Gamma-Gamma for repeat customers' purchase counts and mean spend."""
    # gamma is a scale parameter: fitting spend in units of its mean keeps it inside the search box whatever the
    # currency (a shop in rupiah spends millions), then gamma and the density are scaled back
    scale = float(np.mean(m_x))
    (x, m_x), weights, _ = _distinct(x, np.asarray(m_x, dtype="float64") / scale)
    fit = _maximise(lambda p: gamma_gamma_log_likelihood(p, x, m_x, weights=weights, gradient=True),
                    np.log([1.0, 2.0, 1.0]), ("p", "q", "gamma"))
    return Fit({**fit.params, "gamma": fit.params["gamma"] * scale},
               fit.log_likelihood - float(weights.sum()) * math.log(scale), fit.converged, fit.message)


def p_alive(params: dict, x, t_x, T) -> np.ndarray:
    """Probability that a customer with this history is still active at T (FHL 2005, appendix; Fader et al. 2008)."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    return 1.0 / (1.0 + _death_odds(params, x, t_x, T))


def expected_purchases(params: dict, x, t_x, T, t) -> np.ndarray:
    """Expected purchases in (T, T + t] given the history (FHL 2005 eq. 10)."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    return p_alive(params, x, t_x, T) * _purchases_if_alive(params, x, T, np.asarray(t, dtype="float64"))


def expected_spend(params: dict, x, m_x) -> np.ndarray:
    """Gamma-Gamma conditional mean spend per purchase, (gamma + m_x x) p / (p x + q - 1); NaN where it is infinite
    (q <= 1 and no repeat purchase)."""
    p, q, gamma = (params[k] for k in ("p", "q", "gamma"))
    x, m_x = (np.asarray(v, dtype="float64") for v in (x, m_x))
    denominator = p * x + q - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, (gamma + m_x * x) * p / denominator, np.nan)


def discounted_purchases(params: dict, x, t_x, T, periods: int, rate_per_period: float) -> np.ndarray:
    """Sum over periods k = 1..periods of the expected purchases in period k (E[Y(k)] - E[Y(k-1)], eq. 10) times
    (1 + rate_per_period)^-k: purchases of period k are valued at its end."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    # eq. 10 is P(alive) times a factor of x and T alone: the periods are summed once per distinct (x, T)
    (ux, uT), _, inverse = _distinct(x, T)
    steps = np.arange(periods + 1, dtype="float64")
    weights = (1.0 + rate_per_period) ** -steps[1:]
    totals = np.empty(len(ux))
    chunk = max(1, 2_000_000 // (periods + 1))  # bounds the (histories x periods) matrix to ~16 MB
    for start in range(0, len(ux), chunk):
        part = slice(start, start + chunk)
        cumulative = _purchases_if_alive(params, ux[part, None], uT[part, None], steps[None, :])
        totals[part] = np.diff(cumulative, axis=1) @ weights
    return p_alive(params, x, t_x, T) * totals[inverse]


def _purchases_if_alive(params: dict, x: np.ndarray, T: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Eq. 10 without its P(alive) denominator: (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
    2F1(r+x, b+x; a+b+x-1; z)], z = t/(alpha+T+t). Two Pfaff transformations turn the bracketed product into
    ((alpha+T+t)/(alpha+T))^(1-a) 2F1(a+b-r-1, a-1; a+b+x-1; z): the same value (to 1e-12), but finite for
    customers with thousands of purchases, where 2F1(r+x, b+x; ...) overflows."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    c = a + b + x - 1
    tail = ((alpha + T + t) / (alpha + T)) ** (1 - a) * hyp2f1(a + b - r - 1, a - 1, c, t / (alpha + T + t))
    return (c / (a - 1)) * (1.0 - tail)


def _death_odds(params: dict, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x) for repeat customers, 0 for the others."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    repeat = x > 0
    log_odds = np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) + (r + x) * (np.log(alpha + T)
                                                                                   - np.log(alpha + t_x))
    with np.errstate(over="ignore"):
        return np.where(repeat, np.exp(log_odds), 0.0)


def _distinct(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The distinct rows of the columns, how often each occurs and where each input row went: identical histories
    (common with whole days) are evaluated once. A lexsort, ten times faster than np.unique(axis=0)."""
    stacked = np.column_stack([np.asarray(c, dtype="float64") for c in columns])
    order = np.lexsort(stacked.T[::-1])
    ordered = stacked[order]
    starts = np.r_[True, np.any(ordered[1:] != ordered[:-1], axis=1)]
    group = np.cumsum(starts) - 1
    inverse = np.empty(len(stacked), dtype="int64")
    inverse[order] = group
    rows = ordered[starts]
    return [rows[:, i] for i in range(rows.shape[1])], np.bincount(group).astype("float64"), inverse


def _maximise(log_likelihood, start: np.ndarray, names: tuple[str, ...]) -> Fit:
    """L-BFGS-B on the negative log-likelihood over log-parameters; never raises for a fit that goes astray."""
    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(all="ignore"):
            value, grad = log_likelihood(np.exp(log_params))
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros_like(log_params)
        return -value, -grad

    # The optimiser's BLAS calls on 4-vectors run 3x slower when OpenBLAS threads spin on a busy server.
    with threadpool_limits(limits=1):
        result = minimize(objective, start, jac=True, method="L-BFGS-B",
                          bounds=[(-LOG_BOUND, LOG_BOUND)] * len(start),
                          options={"maxiter": MAX_ITERATIONS, "ftol": 1e-13, "gtol": 1e-7})
    runaway = bool(np.any(np.abs(result.x) >= LOG_PLAUSIBLE))
    converged = bool(result.success and np.isfinite(result.fun) and not runaway)
    message = "a parameter ran off towards 0 or infinity: the data do not pin the model down" \
        if runaway and result.success else str(result.message).strip(" :")
    if not converged:
        logger.info("fit did not converge: %s", message)
    return Fit({name: float(v) for name, v in zip(names, np.exp(result.x), strict=True)}, float(-result.fun),
               converged, message)

