"""Bayesian Knowledge Tracing (Corbett & Anderson, 1994) for one concept. numpy only.

A two-state hidden Markov model per learner: the concept is *unknown* (U) or *known* (K).

    P(K at the first opportunity)     = p_init                      (L0)
    P(U → K between opportunities)    = p_transit                   (T; no forgetting: K → K)
    P(correct | U) = p_guess  (g)      P(correct | K) = 1 − p_slip   (s)

After observing a response the belief p = P(K) is updated by Bayes' rule and then the chance
to learn is applied::

    correct:    p|obs = p(1 − s) / (p(1 − s) + (1 − p)g)
    incorrect:  p|obs = p·s / (p·s + (1 − p)(1 − g))
    next p      = p|obs + (1 − p|obs)·T
    P(correct)  = p(1 − s) + (1 − p)g

``bkt_fit_em`` estimates the four parameters from many learners' 0/1 sequences by Baum–Welch
(scaled forward–backward, vectorised over learners, looping only over time steps).

Constraint: guess < 0.5 and slip < 0.5 (otherwise "known" would predict *fewer* correct
answers than "unknown": the degenerate solutions of Baker, Corbett & Aleven, 2008). It is
enforced by clipping after each M-step: guess and slip to [ε, 0.5 − ε], L0 and T to [ε, 1 − ε],
ε = 1e-6. The expected complete-data log-likelihood is a sum of separate concave terms, one per
parameter, so the clipped value is the exact constrained maximiser of its term and every
iteration still increases the (observed) log-likelihood.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

EPS = 1e-6
MAX_GUESS = MAX_SLIP = 0.5 - EPS


@dataclass(frozen=True)
class BKTParams:
    """p_init = P(L0), p_transit = P(T), p_guess = P(G), p_slip = P(S).

    All must lie strictly inside (0, 1), and guess and slip below 0.5.
    """

    p_init: float
    p_transit: float
    p_guess: float
    p_slip: float

    def __post_init__(self) -> None:
        for name in ("p_init", "p_transit", "p_guess", "p_slip"):
            value = float(getattr(self, name))
            if not 0.0 < value < 1.0:  # also rejects NaN
                raise ValueError(f"{name} must lie in (0, 1), got {value}")
            object.__setattr__(self, name, value)
        if self.p_guess >= 0.5:
            raise ValueError(f"p_guess must be < 0.5, got {self.p_guess}")
        if self.p_slip >= 0.5:
            raise ValueError(f"p_slip must be < 0.5, got {self.p_slip}")


DEFAULT_INIT = BKTParams(p_init=0.4, p_transit=0.15, p_guess=0.2, p_slip=0.1)

#: How parameters are stored and printed (pyBKT's names): BKTParams field → stored key.
STORED_NAMES = {"p_init": "prior", "p_transit": "learn", "p_guess": "guess", "p_slip": "slip"}


def bkt_params_as_dict(params: BKTParams) -> dict[str, float]:
    """{"prior", "learn", "guess", "slip"}: the stored form (FittedModel.parameters)."""
    return {stored: getattr(params, field) for field, stored in STORED_NAMES.items()}


def bkt_params_from_dict(stored: dict) -> BKTParams:
    """The inverse of ``bkt_params_as_dict``; ValueError on a missing or invalid value."""
    try:
        return BKTParams(**{field: float(stored[name]) for field, name in STORED_NAMES.items()})
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a stored BKT parameter set: {stored!r}") from exc


def bkt_simulate(
    params: BKTParams, n_learners: int, n_steps: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_learners, n_steps) 0/1 answers drawn from the model: each learner starts known with
    probability p_init, answers, then may learn (never forgets). For tests and benchmarks."""
    known = rng.random(n_learners) < params.p_init
    answers = np.empty((n_learners, n_steps), dtype=np.int8)
    for t in range(n_steps):
        answers[:, t] = rng.random(n_learners) < np.where(known, 1 - params.p_slip, params.p_guess)
        known |= rng.random(n_learners) < params.p_transit
    return answers


def _check_probability(p_known: float) -> float:
    p = float(p_known)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p_known must lie in [0, 1], got {p}")
    return p


def bkt_predict(p_known: float, params: BKTParams) -> float:
    """P(correct) = p(1 − slip) + (1 − p)·guess, for the belief p = P(known), p ∈ [0, 1]."""
    p = _check_probability(p_known)
    return p * (1.0 - params.p_slip) + (1.0 - p) * params.p_guess


def bkt_update(p_known: float, correct: bool | int, params: BKTParams) -> float:
    """The belief P(known) at the next opportunity, after observing ``correct`` (bool or 0/1).

    Bayes' rule on the observation (formulas in the module docstring), then the learning
    transition p ← p + (1 − p)·p_transit. Precondition: p_known ∈ [0, 1].
    """
    p = _check_probability(p_known)
    if correct not in (0, 1):  # True/False compare equal to 1/0
        raise ValueError(f"correct must be a bool or 0/1, got {correct!r}")
    if correct:
        known, unknown = p * (1.0 - params.p_slip), (1.0 - p) * params.p_guess
    else:
        known, unknown = p * params.p_slip, (1.0 - p) * (1.0 - params.p_guess)
    posterior = known / (known + unknown)  # the denominator is > 0: params are in (0, 1)
    return posterior + (1.0 - posterior) * params.p_transit


# ---------------------------------------------------------------------------------------------
# Baum–Welch
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BKTFit:
    """``log_likelihood_trace[i]``: log-likelihood of the data under the estimate after i EM
    iterations (index 0: ``init``); its last entry belongs to ``params``. Non-decreasing."""

    params: BKTParams
    log_likelihood_trace: np.ndarray
    iterations: int
    converged: bool

    @property
    def log_likelihood(self) -> float:
        return float(self.log_likelihood_trace[-1])


def _padded(sequences: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """(N, T) responses and validity mask; empty sequences are dropped."""
    arrays = [np.asarray(s, dtype=float).reshape(-1) for s in sequences]
    arrays = [s for s in arrays if s.size]
    if not arrays:
        raise ValueError("need at least one non-empty sequence")
    for i, s in enumerate(arrays):
        if not np.all((s == 0) | (s == 1)):
            raise ValueError(f"sequence {i}: responses must be 0 or 1")
    lengths = np.array([s.size for s in arrays])
    steps = np.arange(lengths.max())
    valid = steps[None, :] < lengths[:, None]
    obs = np.zeros(valid.shape)
    obs[valid] = np.concatenate(arrays)
    return obs, valid


@dataclass(frozen=True)
class _Posterior:
    log_likelihood: float
    gamma: np.ndarray  # (N, T, 2) P(state | all of the learner's data); 0 = unknown, 1 = known
    learned: np.ndarray  # (N, T) P(unknown at t, known at t + 1 | data) where t + 1 is valid


def _forward_backward(obs: np.ndarray, valid: np.ndarray, params: BKTParams) -> _Posterior:
    n, steps = obs.shape
    transit = params.p_transit
    emit = np.stack(  # P(observation | state), (N, T, 2)
        [
            np.where(obs == 1, params.p_guess, 1.0 - params.p_guess),
            np.where(obs == 1, 1.0 - params.p_slip, params.p_slip),
        ],
        axis=-1,
    )
    alpha = np.empty((n, steps, 2))
    scale = np.ones((n, steps))
    prior = np.broadcast_to([1.0 - params.p_init, params.p_init], (n, 2))
    for t in range(steps):
        if t:
            prev = alpha[:, t - 1]
            prior = np.stack([prev[:, 0] * (1.0 - transit), prev[:, 1] + prev[:, 0] * transit], 1)
        joint = prior * emit[:, t]
        total = joint.sum(axis=1)
        ok = valid[:, t]
        scale[ok, t] = total[ok]
        alpha[:, t] = np.where(ok[:, None], joint / total[:, None], alpha[:, max(t - 1, 0)])
    beta = np.ones((n, steps, 2))
    learned = np.zeros((n, steps))
    for t in range(steps - 2, -1, -1):
        ok = valid[:, t + 1]
        nxt = emit[:, t + 1] * beta[:, t + 1] / scale[:, t + 1, None]
        beta[:, t, 0] = np.where(ok, (1.0 - transit) * nxt[:, 0] + transit * nxt[:, 1], 1.0)
        beta[:, t, 1] = np.where(ok, nxt[:, 1], 1.0)
        learned[:, t] = np.where(ok, alpha[:, t, 0] * transit * nxt[:, 1], 0.0)
    gamma = alpha * beta * valid[:, :, None]
    return _Posterior(float(np.log(scale).sum()), gamma, learned)


def bkt_log_likelihood(sequences: Sequence, params: BKTParams) -> float:
    """log P(all sequences | params), learners independent (scaled forward algorithm)."""
    obs, valid = _padded(sequences)
    return _forward_backward(obs, valid, params).log_likelihood


def _m_step(obs: np.ndarray, valid: np.ndarray, post: _Posterior, current: BKTParams):
    gamma = post.gamma
    unknown, known = gamma[..., 0], gamma[..., 1]
    has_next = np.zeros_like(valid)
    has_next[:, :-1] = valid[:, 1:]

    def ratio(num: float, den: float, fallback: float) -> float:
        return num / den if den > 0 else fallback

    p_init = float(gamma[:, 0, 1].mean())
    p_transit = ratio(post.learned.sum(), (unknown * has_next).sum(), current.p_transit)
    p_guess = ratio((unknown * obs).sum(), unknown.sum(), current.p_guess)
    p_slip = ratio((known * (1.0 - obs) * valid).sum(), known.sum(), current.p_slip)
    return BKTParams(
        p_init=float(np.clip(p_init, EPS, 1.0 - EPS)),
        p_transit=float(np.clip(p_transit, EPS, 1.0 - EPS)),
        p_guess=float(np.clip(p_guess, EPS, MAX_GUESS)),
        p_slip=float(np.clip(p_slip, EPS, MAX_SLIP)),
    )


def _as_vector(params: BKTParams) -> np.ndarray:
    return np.array([params.p_init, params.p_transit, params.p_guess, params.p_slip])


def bkt_fit_em(
    sequences: list[np.ndarray],
    init: BKTParams | None = None,
    max_iter: int = 200,
    tol: float = 1e-6,
) -> BKTFit:
    """Maximum-likelihood BKT parameters for one concept by Baum–Welch EM.

    ``sequences``: one 0/1 array per learner, in answer order (lengths may differ; empty ones
    are ignored). ``init``: starting point (default ``DEFAULT_INIT``; EM finds a local maximum,
    so start inside the plausible region). Converged when no parameter moves by more than
    ``tol`` in an iteration; at most ``max_iter`` iterations. Guess and slip stay below 0.5
    (see the module docstring).
    """
    obs, valid = _padded(sequences)
    params = init or DEFAULT_INIT
    post = _forward_backward(obs, valid, params)
    trace = [post.log_likelihood]
    converged = False
    iterations = 0
    while iterations < max_iter and not converged:
        iterations += 1
        new = _m_step(obs, valid, post, params)
        converged = bool(np.abs(_as_vector(new) - _as_vector(params)).max() < tol)
        params = new
        post = _forward_backward(obs, valid, params)
        trace.append(post.log_likelihood)
    return BKTFit(params, np.asarray(trace), iterations, converged)


# ---------------------------------------------------------------------------------------------
# Many skills at once: a pooled fit, then one per skill with enough data
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BKTSkillsFit:
    """``pooled``: one fit on every skill's sequences together (None without data);
    ``skills``: a fit per skill with at least the minimum number of answers; ``answers``: the
    answers each skill has (fitted or not), ``learners`` its non-empty sequences."""

    pooled: BKTFit | None
    skills: dict
    answers: dict
    learners: dict


def bkt_fit_skills(
    sequences_by_skill: dict, minimum_answers: int = 1, max_iter: int = 200
) -> BKTSkillsFit:
    """Fit the pooled parameters, then each skill with at least ``minimum_answers`` answers.

    A skill's EM starts from the pooled estimate (a better start than the generic one: the
    skills of one course resemble each other, and EM only finds a local maximum). Skills below
    the minimum are not fitted: the caller falls back to the pooled parameters for them.
    """
    answers = {s: int(sum(np.size(x) for x in seqs)) for s, seqs in sequences_by_skill.items()}
    learners = {s: sum(1 for x in seqs if np.size(x)) for s, seqs in sequences_by_skill.items()}
    everything = [x for seqs in sequences_by_skill.values() for x in seqs if np.size(x)]
    if not everything:
        return BKTSkillsFit(None, {}, answers, learners)
    pooled = bkt_fit_em(everything, max_iter=max_iter)
    skills = {
        skill: bkt_fit_em(seqs, init=pooled.params, max_iter=max_iter)
        for skill, seqs in sequences_by_skill.items()
        if answers[skill] and answers[skill] >= minimum_answers
    }
    return BKTSkillsFit(pooled, skills, answers, learners)
