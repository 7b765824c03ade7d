"""Item response theory for dichotomous (0/1) items: response model, information, EAP ability,
and marginal-maximum-likelihood item calibration. numpy only; no Django, no scipy.

Model (logistic, **no** D = 1.7 scaling — a, b are on the logistic metric, as in R ``ltm``
and ``mirt``)::

    P(θ) = c + (1 − c) / (1 + exp(−a(θ − b)))          Q = 1 − P

Metrics: σ(1.7x) ≈ Φ(x) (within 0.01 for every x), so a normal-ogive item Φ(a_N(θ − b)), or a
logistic item written with the scaling constant, σ(1.7·a_D(θ − b)), is this model with
a = 1.7·a_N (= 1.7·a_D). To compare a here with a normal-ogive (or D = 1.7) table, **divide**
it by 1.7 (a_N ≈ a / 1.7); b and c are the same on every metric.

1PL/Rasch: c = 0 and a common a (Rasch: a = 1); 2PL: c = 0; 3PL: all three free. Internally
the slope–intercept form z = aθ + d with d = −a·b is used; b = −d/a is reported.

Calibration (``calibrate``) follows Bock & Aitkin (1981): ability θ ~ N(0, 1) is integrated
on a fixed grid of equally spaced nodes on [−6, 6] whose weights are the normalised N(0, 1)
density (rectangular quadrature, as mirt uses: for a smooth integrand it converges as fast as
Gauss–Hermite and, unlike Gauss–Hermite, does not spend nodes far in the tails where a long
test's posterior has no mass). Each EM cycle

* E-step: posterior weights of every response pattern at every node, giving the expected
  number of persons n_jk at node k who answered item j and expected number correct r_jk;
* M-step: maximises Σ_k r_jk·log P_j(θ_k) + (n_jk − r_jk)·log Q_j(θ_k) (plus the log prior on c
  for the 3PL) by a few Newton–Raphson steps per item (Fisher scoring if the Hessian is not
  negative definite, with step halving, so every cycle increases the marginal likelihood).

Missing responses (``mask``; "not administered") contribute nothing: a person's likelihood is
the product over the items they answered only, and n_jk, r_jk count only the persons who
answered item j. This is full-information MML under missing at random, which holds for
adaptive practice too: which item comes next depends on earlier *observed* answers, so the
selection is ignorable for the likelihood (Mislevy & Wu, 1996).

Standard errors come from the observed information of the (quadrature) marginal
log-likelihood at convergence, computed exactly with Louis's (1982) identity
``I = −E[∂²ℓ_c] − E[s sᵀ] + Σ_n s̄_n s̄_nᵀ`` over all free parameters jointly, inverted, and
carried to b = −d/a by the delta method. (The inverse of the M-step's own per-item Hessian
would ignore the information lost by not observing θ and understates the SEs.)

Linking (``link_mean_sigma``, ``Calibration.on_scale``): every calibration fixes θ ~ N(0, 1) in
the population it was fitted on, so two calibrations on different populations have different
scales. With anchor items calibrated both times, θ_ref = A·θ_new + B maps the new scale onto the
reference one; items transform as a → a/A, b → A·b + B (c unchanged), so P(correct) at a
reference-scale θ is what the new calibration says it is at (θ − B)/A.
"""

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

Model = Literal["rasch", "1pl", "2pl", "3pl"]
MODELS: tuple[str, ...] = ("rasch", "1pl", "2pl", "3pl")

#: Beta(α, β) prior on the 3PL lower asymptote c: mode (α−1)/(α+β−2) = 0.2, mean ≈ 0.23,
#: 95% of its mass in ≈ (0.08, 0.42). Weak enough for the data to move c, strong enough to
#: keep c identified on easy items (without it c drifts to 0 or 1 and a, b with it).
C_PRIOR: tuple[float, float] = (5.0, 17.0)
N_CALIBRATION_NODES = 41
GRID_HALF_WIDTH = 6.0
MAX_ABS_A = 20.0  # Newton steps are projected onto these bounds: keeps z finite on the grid
MAX_ABS_D = 100.0
NEWTON_STEPS = 5
_HALVINGS = 15


# ---------------------------------------------------------------------------------------------
# Response model
# ---------------------------------------------------------------------------------------------


def _broadcast_items(a, b, c) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b, c = np.broadcast_arrays(
        np.asarray(a, dtype=float), np.asarray(b, dtype=float), np.asarray(c, dtype=float)
    )
    if np.any((c < 0) | (c >= 1)) or not np.all(np.isfinite(c)):
        raise ValueError("c must lie in [0, 1)")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("a and b must be finite")
    return a, b, c


def _outer(theta, items: np.ndarray) -> np.ndarray:
    theta = np.asarray(theta, dtype=float)
    if theta.ndim and items.ndim:
        theta = theta.reshape(theta.shape + (1,) * items.ndim)
    return theta


def _log_expit(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def p_correct(theta, a=1.0, b=0.0, c=0.0) -> np.ndarray:
    """P(correct | θ) = c + (1 − c)·σ(a(θ − b)), σ(x) = 1 / (1 + e^(−x)); no D = 1.7.

    1PL/Rasch: leave c = 0 (and a = 1 for Rasch); 2PL: c = 0; 3PL: c ∈ [0, 1).

    Shapes: the item parameters broadcast together to the *item shape*; θ's shape comes first,
    so θ of shape (n,) and items of shape (m,) give an (n, m) matrix (persons × items). A scalar
    θ gives the item shape; scalar items give θ's shape. Stable for any finite a(θ − b).
    """
    a, b, c = _broadcast_items(a, b, c)
    z = a * (_outer(theta, a) - b)
    return c + (1.0 - c) * np.exp(_log_expit(z))


def fisher_information(theta, a=1.0, b=0.0, c=0.0) -> np.ndarray:
    """Item information I(θ) = a²·(Q/P)·((P − c)/(1 − c))² (Birnbaum); a²·P·Q when c = 0.

    Evaluated as a²(1 − c)σ²(1 − σ)/P with σ = σ(a(θ − b)), which is the same quantity without
    the cancellation in 1 − P. Shapes as in ``p_correct``. Sum over items for test information.
    """
    a, b, c = _broadcast_items(a, b, c)
    z = a * (_outer(theta, a) - b)
    sig = np.exp(_log_expit(z))
    sigm = np.exp(_log_expit(-z))
    p = c + (1.0 - c) * sig
    return a**2 * (1.0 - c) * sig**2 * sigm / p


# ---------------------------------------------------------------------------------------------
# Quadrature and per-node item terms (slope–intercept form z = a·θ + d)
# ---------------------------------------------------------------------------------------------


def _normal_grid(n: int, mean: float = 0.0, sd: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Equally spaced nodes on mean ± 6·sd and log weights of the normalised N(mean, sd²)."""
    if n < 3:
        raise ValueError("need at least 3 quadrature nodes")
    z = np.linspace(-GRID_HALF_WIDTH, GRID_HALF_WIDTH, n)
    log_w = -0.5 * z**2
    log_w -= np.log(np.exp(log_w).sum())
    return mean + sd * z, log_w


@dataclass(frozen=True)
class _Trace:
    """Item j at node k, arrays of shape (J, K)."""

    sig: np.ndarray  # σ(z)
    p: np.ndarray
    q: np.ndarray
    log_p: np.ndarray
    log_q: np.ndarray


def _trace(a: np.ndarray, d: np.ndarray, c: np.ndarray, nodes: np.ndarray) -> _Trace:
    z = a[:, None] * nodes[None, :] + d[:, None]
    cc = c[:, None]
    log_sig, log_sigm = _log_expit(z), _log_expit(-z)
    sig = np.exp(log_sig)
    with np.errstate(divide="ignore"):
        log_p = np.logaddexp(np.log(cc), np.log1p(-cc) + log_sig)
    return _Trace(
        sig=sig,
        p=cc + (1.0 - cc) * sig,
        q=(1.0 - cc) * np.exp(log_sigm),
        log_p=log_p,
        log_q=np.log1p(-cc) + log_sigm,
    )


def _score_factors(tr: _Trace, c: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """g_jk = ∇P/(P·Q) w.r.t. (a, d, c), shape (J, K, 3): one response's score is (u − P)·g."""
    h = tr.sig / tr.p
    return np.stack(
        [nodes[None, :] * h, h, 1.0 / ((1.0 - c[:, None]) * tr.p)],
        axis=-1,
    )


# ---------------------------------------------------------------------------------------------
# EAP ability
# ---------------------------------------------------------------------------------------------


def eap_ability(
    responses,
    a,
    b,
    c=0.0,
    mask=None,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    n_quadrature: int = 61,
):
    """Expected a posteriori ability and its posterior SD (the usual EAP standard error).

    θ̂ = ∫θ L(u|θ) φ(θ) dθ / ∫L(u|θ) φ(θ) dθ,  SE = sqrt(∫(θ − θ̂)² L φ dθ / ∫L φ dθ),
    φ the N(prior_mean, prior_sd²) density, integrals on ``n_quadrature`` equally spaced nodes
    over prior_mean ± 6·prior_sd.

    ``responses``: 0/1 of shape (J,) for one person or (N, J) for N persons, aligned with the
    item parameters (broadcast to J). ``mask``: boolean of the same shape, True where the item
    was answered; False entries are ignored (their values may be anything, NaN included). No
    answered items → the prior's mean and SD. Returns floats for one person, arrays otherwise.
    """
    u = np.asarray(responses, dtype=float)
    single = u.ndim == 1
    u = np.atleast_2d(u)
    if u.ndim != 2:
        raise ValueError("responses must be 1-D (one person) or 2-D (persons × items)")
    n_items = u.shape[1]
    a, b, c = (np.broadcast_to(x, (n_items,)) for x in _broadcast_items(a, b, c))
    observed = (
        np.ones(u.shape, dtype=bool)
        if mask is None
        else np.broadcast_to(np.asarray(mask, dtype=bool).reshape((-1, n_items)), u.shape)
    )
    u = np.where(observed, u, 0.0)
    if not np.all((u == 0) | (u == 1)):
        raise ValueError("answered responses must be 0 or 1")
    if not prior_sd > 0:
        raise ValueError("prior_sd must be positive")
    nodes, log_w = _normal_grid(n_quadrature, prior_mean, prior_sd)
    tr = _trace(a, -a * b, c, nodes)
    obs = observed.astype(float)
    log_post = (u * obs) @ tr.log_p + ((1.0 - u) * obs) @ tr.log_q + log_w
    log_post -= log_post.max(axis=1, keepdims=True)
    post = np.exp(log_post)
    post /= post.sum(axis=1, keepdims=True)
    mean = post @ nodes
    sd = np.sqrt(np.einsum("nk,nk->n", post, (nodes[None, :] - mean[:, None]) ** 2))
    if single:
        return float(mean[0]), float(sd[0])
    return mean, sd


# ---------------------------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """Item estimates (logistic metric, θ ~ N(0, 1)). se_* are NaN for fixed parameters.

    ``log_likelihood`` is the marginal log-likelihood Σ_n w_n·log ∫P(u_n|θ)φ(θ)dθ at the
    estimates (without the 3PL's prior on c); ``objective_trace`` holds, per EM cycle, the
    quantity EM maximises (the same, plus the log Beta prior density for the 3PL), which is
    non-decreasing.
    """

    model: str
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    se_a: np.ndarray
    se_b: np.ndarray
    se_c: np.ndarray
    n_responses: np.ndarray  # answers per item (count-weighted)
    log_likelihood: float
    iterations: int
    converged: bool
    objective_trace: np.ndarray = field(repr=False)


def _prior_terms(c: np.ndarray, use: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log Beta density of c (up to a constant), its first and second derivatives."""
    if not use:
        zero = np.zeros_like(c)
        return zero, zero, zero
    alpha, beta = C_PRIOR
    with np.errstate(divide="ignore", invalid="ignore"):
        log_prior = (alpha - 1) * np.log(c) + (beta - 1) * np.log1p(-c)
        d1 = (alpha - 1) / c - (beta - 1) / (1 - c)
        d2 = -(alpha - 1) / c**2 - (beta - 1) / (1 - c) ** 2
    return log_prior, d1, d2


def _m_objective(params: np.ndarray, nodes, r, n, use_prior: bool) -> np.ndarray:
    """Per-item expected complete-data log-likelihood (+ log prior), shape (J,)."""
    a, d, c = params.T
    with np.errstate(invalid="ignore", divide="ignore"):
        tr = _trace(a, d, c, nodes)
        obj = (r * tr.log_p + (n - r) * tr.log_q).sum(axis=1)
    obj = obj + _prior_terms(c, use_prior)[0]
    feasible = (
        (np.abs(a) <= MAX_ABS_A) & (np.abs(d) <= MAX_ABS_D) & (c >= 0) & (c < 1) & np.isfinite(obj)
    )
    if use_prior:
        feasible &= c > 0
    return np.where(feasible, obj, -np.inf)


def _m_derivatives(params: np.ndarray, nodes, r, n, use_prior: bool):
    """Per-item gradient (J, 3), Hessian and expected (Fisher-scoring) Hessian (J, 3, 3)."""
    a, d, c = params.T
    tr = _trace(a, d, c, nodes)
    g = _score_factors(tr, c, nodes)
    resid = r - n * tr.p
    grad = np.einsum("jk,jkq->jq", resid, g)
    h = tr.sig / tr.p
    t = h * (1.0 - 2.0 * tr.sig)
    x = nodes[None, :]
    ic = 1.0 / (1.0 - c[:, None])
    second = np.zeros((*tr.p.shape, 3, 3))  # ∇²P / (P·Q)
    second[..., 0, 0] = t * x**2
    second[..., 0, 1] = second[..., 1, 0] = t * x
    second[..., 1, 1] = t
    second[..., 0, 2] = second[..., 2, 0] = -h * x * ic
    second[..., 1, 2] = second[..., 2, 1] = -h * ic
    curvature = r * tr.q**2 + (n - r) * tr.p**2
    hess = -np.einsum("jk,jkq,jks->jqs", curvature, g, g) + np.einsum("jk,jkqs->jqs", resid, second)
    fisher = -np.einsum("jk,jkq,jks->jqs", n * tr.p * tr.q, g, g)
    _, d1, d2 = _prior_terms(c, use_prior)
    grad[:, 2] += d1
    hess[:, 2, 2] += d2
    fisher[:, 2, 2] += d2
    return grad, hess, fisher


_FREE = {"rasch": [1], "2pl": [0, 1], "3pl": [0, 1, 2]}


def _project(params: np.ndarray) -> None:
    """Clip a and d into their bounds in place (projected Newton: a step past a bound stops
    at it instead of being halved away)."""
    np.clip(params[:, 0], -MAX_ABS_A, MAX_ABS_A, out=params[:, 0])
    np.clip(params[:, 1], -MAX_ABS_D, MAX_ABS_D, out=params[:, 1])


def _m_step_items(params, free, nodes, r, n, use_prior) -> np.ndarray:
    """Newton–Raphson per item (batched over items) on the free columns of (a, d, c)."""
    params = params.copy()
    idx = np.asarray(free)
    for _ in range(NEWTON_STEPS):
        obj = _m_objective(params, nodes, r, n, use_prior)
        grad, hess, fisher = _m_derivatives(params, nodes, r, n, use_prior)
        gf = grad[:, idx]
        hf = hess[:, idx][:, :, idx]
        ff = fisher[:, idx][:, :, idx]
        newton_ok = np.linalg.eigvalsh(hf).max(axis=1) < 0
        m = np.where(newton_ok[:, None, None], hf, ff)
        try:
            step = -np.linalg.solve(m, gf[..., None])[..., 0]
        except np.linalg.LinAlgError:  # a singular item block: least-squares step instead
            step = -(np.linalg.pinv(m) @ gf[..., None])[..., 0]
        step = np.where(np.isfinite(step), step, 0.0)
        scale = np.ones(len(params))
        accepted = np.zeros(len(params), dtype=bool)
        new = params.copy()
        for _ in range(_HALVINGS):
            cand = params.copy()
            cand[:, idx] += scale[:, None] * step
            _project(cand)
            ok = ~accepted & (_m_objective(cand, nodes, r, n, use_prior) >= obj)
            new[ok] = cand[ok]
            accepted |= ok
            if accepted.all():
                break
            scale = np.where(accepted, scale, scale / 2)
        moved = np.abs(new - params).max()
        params = new
        if moved < 1e-10:
            break
    return params


def _m_step_common_slope(params, nodes, r, n) -> np.ndarray:
    """Joint Newton–Raphson on (a, d_1..d_J) with a shared a (1PL); Schur complement solve."""
    params = params.copy()
    for _ in range(NEWTON_STEPS):
        obj = _m_objective(params, nodes, r, n, False).sum()
        grad, hess, _ = _m_derivatives(params, nodes, r, n, False)
        g_a, g_d = grad[:, 0].sum(), grad[:, 1]
        h_aa, v, dd = hess[:, 0, 0].sum(), hess[:, 0, 1], hess[:, 1, 1]
        y_a = (g_a - np.sum(v * g_d / dd)) / (h_aa - np.sum(v**2 / dd))
        y_d = (g_d - v * y_a) / dd
        step_a, step_d = -y_a, -y_d
        scale, new = 1.0, params
        for _ in range(_HALVINGS):
            cand = params.copy()
            cand[:, 0] += scale * step_a
            cand[:, 1] += scale * step_d
            _project(cand)
            if _m_objective(cand, nodes, r, n, False).sum() >= obj:
                new = cand
                break
            scale /= 2
        moved = np.abs(new - params).max()
        params = new
        if moved < 1e-10:
            break
    return params


@dataclass(frozen=True)
class _Data:
    """Collapsed response patterns: u (N, J) 0/1 with 0 where unobserved, m (N, J) 1.0 where
    observed, w (N,) pattern frequencies."""

    u: np.ndarray
    m: np.ndarray
    w: np.ndarray

    @property
    def complete(self) -> bool:
        return bool(self.m.all())


@dataclass(frozen=True)
class _EStep:
    log_likelihood: float
    post: np.ndarray  # (N, K) posterior node weights per pattern
    r: np.ndarray  # (J, K) expected number correct
    n: np.ndarray  # (J, K) expected number of persons who answered item j (all alike if complete)


def _e_step(data: _Data, params, nodes, log_w) -> _EStep:
    a, d, c = params.T
    tr = _trace(a, d, c, nodes)
    u, m, w = data.u, data.m, data.w
    log_q_sum = tr.log_q.sum(axis=0) if data.complete else m @ tr.log_q
    log_joint = u @ (tr.log_p - tr.log_q) + log_q_sum + log_w  # (N, K)
    top = log_joint.max(axis=1, keepdims=True)
    log_f = top[:, 0] + np.log(np.exp(log_joint - top).sum(axis=1))
    post = np.exp(log_joint - log_f[:, None])
    wpost = w[:, None] * post
    n = np.broadcast_to(wpost.sum(axis=0), tr.p.shape) if data.complete else m.T @ wpost
    return _EStep(float(w @ log_f), post, u.T @ wpost, n)


def _observed_information(data: _Data, params, nodes, es: _EStep, use_prior: bool) -> np.ndarray:
    """Observed information of the marginal log-likelihood (+ log prior) by Louis's identity,
    in per-item (a_j, d_j, c_j) coordinates: a (3J, 3J) matrix, items outermost. An unobserved
    response has score 0 (its factor m_nj multiplies every term below)."""
    u, m, w = data.u, data.m, data.w
    n_items = params.shape[0]
    a, d, c = params.T
    tr = _trace(a, d, c, nodes)
    g = _score_factors(tr, c, nodes)  # (J, K, 3)
    _, hess, _ = _m_derivatives(params, nodes, es.r, es.n, use_prior)
    info = np.zeros((n_items, 3, n_items, 3))
    info[np.arange(n_items), :, np.arange(n_items), :] = -hess
    # Σ_n w_n Σ_k post_nk s_nk s_nkᵀ with s_nk,j = m_nj·(u_nj − P_jk)·g_jk:
    # G_kjl = Σ_n w post m_nj m_nl (u_nj − P_jk)(u_nl − P_lk), expanded (u is 0 where m is).
    wpost = w[:, None] * es.post
    p = tr.p
    cross = np.empty((len(nodes), n_items, n_items))
    for k in range(len(nodes)):
        uw = u * wpost[:, k : k + 1]
        pk = p[:, k]
        if data.complete:
            rk = es.r[:, k]
            cross[k] = (
                uw.T @ u - np.outer(rk, pk) - np.outer(pk, rk) + es.n[0, k] * np.outer(pk, pk)
            )
        else:
            um = uw.T @ m  # Σ_n w post u_nj m_nl
            mm = (m * wpost[:, k : k + 1]).T @ m
            cross[k] = uw.T @ u - um * pk[None, :] - um.T * pk[:, None] + mm * np.outer(pk, pk)
    info -= np.einsum("kjl,jkq,lks->jqls", cross, g, g)
    # + Σ_n w_n s̄_n s̄_nᵀ, s̄_n,j = m_nj Σ_k post_nk (u_nj − P_jk) g_jk
    s_bar = u[:, :, None] * np.einsum("nk,jkq->njq", es.post, g) - m[:, :, None] * np.einsum(
        "nk,jkq->njq", es.post, p[:, :, None] * g
    )
    s_bar = s_bar.reshape(len(u), 3 * n_items)
    info += ((s_bar * w[:, None]).T @ s_bar).reshape(n_items, 3, n_items, 3)
    return info.reshape(3 * n_items, 3 * n_items)


def _free_map(model: str, n_items: int) -> np.ndarray:
    """T: free parameters → per-item (a, d, c) coordinates (linear; fixed ones are offsets)."""
    cols = []
    if model == "1pl":
        col = np.zeros(3 * n_items)
        col[0::3] = 1.0
        cols.append(col)
    for j in range(n_items):
        for q in [1] if model in ("rasch", "1pl") else _FREE[model]:
            col = np.zeros(3 * n_items)
            col[3 * j + q] = 1.0
            cols.append(col)
    return np.stack(cols, axis=1)


def _standard_errors(model, info_full, params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SEs of a, b, c from the joint observed information. If it is singular (sparse data can
    leave an item's slope unidentified, e.g. an item whose answerers answered nothing else),
    each item's own block is inverted instead: that item gets NaN SEs, and the others SEs that
    ignore their (then undefined) covariance with the rest."""
    n_items = params.shape[0]
    t = _free_map(model, n_items)
    info = t.T @ info_full @ t
    nan = np.full(n_items, np.nan)
    block = np.full((n_items, 3, 3), np.nan)
    try:
        np.linalg.cholesky(info)
        cov_free = np.linalg.inv(info)
        cov = (t @ cov_free @ t.T).reshape(n_items, 3, n_items, 3)
        block = cov[np.arange(n_items), :, np.arange(n_items), :]  # (J, 3, 3)
    except np.linalg.LinAlgError:
        if model == "1pl":  # the common slope ties every item together: no per-item fallback
            return nan, nan.copy(), nan.copy()
        free = [1] if model == "rasch" else _FREE[model]
        per_item = info_full.reshape(n_items, 3, n_items, 3)
        for j in range(n_items):
            own = per_item[j, :, j, :][np.ix_(free, free)]
            try:
                np.linalg.cholesky(own)
            except np.linalg.LinAlgError:
                continue
            inv = np.zeros((3, 3))
            inv[np.ix_(free, free)] = np.linalg.inv(own)
            block[j] = inv
    a, d, _ = params.T
    jac = np.stack([d / a**2, -1.0 / a, np.zeros(n_items)], axis=1)  # ∂b/∂(a, d, c)
    var_b = np.einsum("jq,jqs,js->j", jac, block, jac)
    se_a = np.sqrt(block[:, 0, 0]) if model in ("1pl", "2pl", "3pl") else nan.copy()
    se_c = np.sqrt(block[:, 2, 2]) if model == "3pl" else nan.copy()
    return se_a, np.sqrt(var_b), se_c


def _validated_data(responses, counts, mask) -> _Data:
    u = np.asarray(responses, dtype=float)
    if u.ndim != 2 or u.shape[0] < 1:
        raise ValueError("responses must be a 2-D array: one row per person (or pattern)")
    if u.shape[1] < 2:
        raise ValueError("need at least 2 items")
    if mask is None:
        observed = np.ones(u.shape, dtype=bool)
    else:
        observed = np.asarray(mask, dtype=bool)
        if observed.shape != u.shape:
            raise ValueError("mask must have the shape of responses")
    u = np.where(observed, u, 0.0)
    if not np.all((u == 0) | (u == 1)):
        raise ValueError(
            "responses must be 0 or 1 (mark missing responses False in mask, not with a value)"
        )
    if counts is None:
        w = np.ones(u.shape[0])
    else:
        w = np.asarray(counts, dtype=float)
        if w.shape != (u.shape[0],):
            raise ValueError("counts must have one entry per row of responses")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("counts must be finite and non-negative")
    keep = (w > 0) & observed.any(axis=1)  # a row with no answers has likelihood 1
    if not keep.any():
        raise ValueError("no responses with a positive count")
    # Collapse identical patterns (missing cells coded 2): the likelihood depends on the data
    # only through them.
    coded = np.where(observed, u, 2.0)[keep].astype(np.int8)
    patterns, inverse = np.unique(coded, axis=0, return_inverse=True)
    weights = np.bincount(inverse.reshape(-1), weights=w[keep], minlength=len(patterns))
    m = (patterns != 2).astype(float)
    u = np.where(patterns == 1, 1.0, 0.0)
    answered, correct = weights @ m, weights @ u
    unanswered = np.flatnonzero(answered <= 0)
    if unanswered.size:
        raise ValueError(
            "items nobody answered cannot be calibrated "
            f"(column index {', '.join(str(int(j)) for j in unanswered)})"
        )
    constant = np.flatnonzero((correct <= 0) | (correct >= answered))
    if constant.size:
        raise ValueError(
            "items answered all correct or all wrong cannot be calibrated "
            f"(column index {', '.join(str(int(j)) for j in constant)})"
        )
    return _Data(u=u, m=m, w=weights)


def _start_values(model: str, data: _Data) -> np.ndarray:
    p = np.clip((data.w @ data.u) / (data.w @ data.m), 0.01, 0.99)
    params = np.zeros((data.u.shape[1], 3))
    params[:, 0] = 1.0
    if model == "3pl":
        params[:, 2] = (C_PRIOR[0] - 1) / (C_PRIOR[0] + C_PRIOR[1] - 2)
        p = np.clip((p - params[:, 2]) / (1 - params[:, 2]), 0.02, 0.98)
    # E σ(θ + d) ≈ σ(d / sqrt(1 + π/8)) for θ ~ N(0, 1) (probit approximation), inverted:
    params[:, 1] = np.log(p / (1 - p)) * np.sqrt(1 + np.pi / 8)
    return params


def _squarem_cycle(p0, p1, em_map, objective):
    """One cycle of EM accelerated by SQUAREM (Varadhan & Roland, 2008): from p0 and its EM
    image p1, a second EM step p2, then the squared extrapolation p0 − 2αr + α²v (r = p1 − p0,
    v = p2 − 2p1 + p0, α = −‖r‖/‖v‖ ≤ −1). The extrapolation is kept only if its objective is
    at least p2's, so every cycle still increases the objective as much as two EM steps do.
    Sparse data leave the likelihood flat along some directions, where plain EM crawls.
    Returns (params, objective, E-step at params)."""
    _, es1 = objective(p1)
    p2 = em_map(p1, es1)
    obj2, es2 = objective(p2)
    r, v = p1 - p0, p2 - 2 * p1 + p0
    norm_v = float(np.sqrt((v**2).sum()))
    if norm_v > 0:
        alpha = min(-float(np.sqrt((r**2).sum())) / norm_v, -1.0)
        candidate = p0 - 2 * alpha * r + alpha**2 * v
        _project(candidate)
        if np.all(np.isfinite(candidate)) and np.all(candidate[:, 2] >= 0):
            with np.errstate(all="ignore"):
                obj_c, es_c = objective(candidate)
            if np.isfinite(obj_c) and obj_c >= obj2:
                return candidate, obj_c, es_c
    return p2, obj2, es2


def calibrate(
    responses: np.ndarray,
    counts: np.ndarray | None,
    model: Model,
    max_iter: int = 500,
    tol: float = 1e-6,
    *,
    mask: np.ndarray | None = None,
    n_quadrature: int = N_CALIBRATION_NODES,
) -> Calibration:
    """Marginal maximum likelihood item calibration by Bock–Aitkin EM, θ ~ N(0, 1).

    ``responses``: (N, J) of 0/1, one row per person or per response pattern; ``counts``: the
    (N,) frequency of each row (None: 1 each; 0 drops a row). ``mask``: (N, J) boolean, True
    where the item was administered; False cells ("not administered") are skipped by the
    likelihood and may hold anything, NaN included (None: every cell observed). ``model``:

    * ``rasch``: a = 1 fixed, b per item;
    * ``1pl``: one common a estimated (equivalent to the Rasch model with a free ability SD);
    * ``2pl``: a and b per item;
    * ``3pl``: a, b, c per item; c has a Beta(5, 17) prior (``C_PRIOR``), so the 3PL estimates
      are posterior modes in c (maximum likelihood in a, b).

    Preconditions: J ≥ 2; every item answered at least once, with both 0s and 1s among its
    answers (else its estimate is at infinity); missing cells missing at random. Converged when
    no parameter (a, d = −a·b, c) moves by more than ``tol`` in an EM cycle; ``max_iter``
    cycles at most. ``n_quadrature`` nodes on [−6, 6]. With too little data an item's ML slope
    can run off to infinity (a Heywood case); it then stops at |a| = ``MAX_ABS_A`` and is
    reported there, usually unconverged: treat such an item as not calibrated.
    ``n_responses`` holds each item's (count-weighted) number of answers.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}")
    data = _validated_data(responses, counts, mask)
    nodes, log_w = _normal_grid(n_quadrature)
    use_prior = model == "3pl"
    params = _start_values(model, data)

    def objective(params) -> tuple[float, _EStep]:
        es = _e_step(data, params, nodes, log_w)
        return es.log_likelihood + float(_prior_terms(params[:, 2], use_prior)[0].sum()), es

    def em_map(params, es: _EStep) -> np.ndarray:
        if model == "1pl":
            return _m_step_common_slope(params, nodes, es.r, es.n)
        return _m_step_items(params, _FREE[model], nodes, es.r, es.n, use_prior)

    trace: list[float] = []
    converged = False
    iterations = 0
    current, es = objective(params)
    while iterations < max_iter and not converged:
        iterations += 1
        trace.append(current)
        first = em_map(params, es)
        converged = bool(np.abs(first - params).max() < tol)
        if converged:
            params = first
            current, es = objective(params)
            break
        params, current, es = _squarem_cycle(params, first, em_map, objective)
    if not converged:
        current, es = objective(params)
    trace.append(current)
    info = _observed_information(data, params, nodes, es, use_prior)
    se_a, se_b, se_c = _standard_errors(model, info, params)
    a, d, c = (col.copy() for col in params.T)
    return Calibration(
        model=model,
        a=a,
        b=-d / a,
        c=c,
        se_a=se_a,
        se_b=se_b,
        se_c=se_c,
        n_responses=data.w @ data.m,
        log_likelihood=es.log_likelihood,
        iterations=iterations,
        converged=converged,
        objective_trace=np.asarray(trace),
    )


def marginal_log_likelihood(
    responses, a, b, c=0.0, counts=None, n_quadrature: int = N_CALIBRATION_NODES, *, mask=None
) -> float:
    """Σ_n w_n·log ∫ Π_j P_j(θ)^u_nj Q_j(θ)^(1−u_nj) φ(θ) dθ on ``calibrate``'s grid, the
    product over the items each person answered (``mask`` as in ``calibrate``)."""
    u = np.asarray(responses, dtype=float)
    observed = np.ones(u.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    u = np.where(observed, u, 0.0) if u.shape == observed.shape else u
    if u.ndim != 2 or observed.shape != u.shape or not np.all((u == 0) | (u == 1)):
        raise ValueError("responses must be a 2-D array of 0/1 (mask of the same shape)")
    a, b, c = (np.broadcast_to(x, (u.shape[1],)) for x in _broadcast_items(a, b, c))
    w = np.ones(u.shape[0]) if counts is None else np.asarray(counts, dtype=float)
    nodes, log_w = _normal_grid(n_quadrature)
    params = np.stack([a, -a * b, c], axis=1)
    data = _Data(u=u, m=observed.astype(float), w=w)
    return _e_step(data, params, nodes, log_w).log_likelihood


# ---------------------------------------------------------------------------------------------
# Linking
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """θ_reference = A·θ_new + B: puts a new calibration on a reference calibration's scale."""

    A: float = 1.0
    B: float = 0.0
    method: str = "none"
    anchors: int = 0


def link_mean_sigma(b_reference, b_new, *, fixed_slope: bool = False) -> Link:
    """Mean/sigma linking (Marco, 1977) on anchor items' difficulties: A = sd(b_ref)/sd(b_new),
    B = mean(b_ref) − A·mean(b_new), so the anchors' difficulties on the new calibration, put
    on the reference scale, have the reference mean and SD.

    With fewer than 3 anchors (or no spread in the new b) the SD ratio is not estimable and
    only the mean is matched (A = 1, "mean"); with none, the identity ("none"). ``fixed_slope``
    (the Rasch model, whose unit a = 1 is fixed) matches only the mean.
    """
    ref = np.asarray(b_reference, dtype=float)
    new = np.asarray(b_new, dtype=float)
    if ref.shape != new.shape or ref.ndim != 1:
        raise ValueError("b_reference and b_new must be 1-D arrays of the anchors, aligned")
    if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(new))):
        raise ValueError("anchor difficulties must be finite")
    n = len(ref)
    if n == 0:
        return Link()
    sd_new = float(new.std())
    if fixed_slope or n < 3 or sd_new < 1e-6:
        return Link(1.0, float(ref.mean() - new.mean()), "mean", n)
    slope = float(ref.std()) / sd_new
    return Link(slope, float(ref.mean() - slope * new.mean()), "mean_sigma", n)


def calibration_on_scale(cal: Calibration, link: Link) -> Calibration:
    """``cal``'s items on the linked scale: a/A, A·b + B, c; SEs scaled alike (the linking
    constants are treated as known)."""
    if not (np.isfinite(link.A) and link.A > 0 and np.isfinite(link.B)):
        raise ValueError("the linking slope A must be positive and A, B finite")
    return replace(
        cal,
        a=cal.a / link.A,
        b=link.A * cal.b + link.B,
        se_a=cal.se_a / link.A,
        se_b=link.A * cal.se_b,
    )
