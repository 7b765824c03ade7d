"""What an arm may set, and arm specs as text ("fsrs:desired_retention=0.85"). Pure: no Django.

An arm is a scheduling algorithm plus parameters that override the course's policy for the
learners assigned to it. Only these parameters exist; anything else is refused by name, so
a typo in the admin or on the command line never silently runs the course's value.
"""

from dataclasses import dataclass, field

ALGORITHMS = ("sm2", "fsrs", "leitner", "hlr")
# An empty algorithm: the arm keeps the course's own (the control of an FSRS-vs-course test,
# or the rollout's "adaptive" arm).
COURSE_ALGORITHM = ""


@dataclass(frozen=True)
class Parameter:
    kind: type
    low: float
    high: float
    help: str


PARAMETERS: dict[str, Parameter] = {
    "desired_retention": Parameter(float, 0.7, 0.99, "FSRS/HLR target recall probability"),
    "maximum_interval_days": Parameter(int, 1, 36500, "longest interval, in days"),
    "new_item_ratio": Parameter(float, 0.0, 1.0, "share of next items given to new atoms"),
    "target_p_correct": Parameter(float, 0.05, 0.95, "difficulty match's target P(correct)"),
}


class ArmSpecError(ValueError):
    """A bad arm: says which part and why."""


@dataclass(frozen=True)
class ArmSpec:
    algorithm: str
    parameters: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        extras = ",".join(f"{k}={v}" for k, v in sorted(self.parameters.items()))
        name = self.algorithm or "course"
        return f"{name}:{extras}" if extras else name


def arm_parameters_clean(parameters: dict) -> dict:
    """The parameters with their types fixed; ArmSpecError names the first bad one."""
    if not isinstance(parameters, dict):
        raise ArmSpecError("parameters must be an object of name: value")
    cleaned = {}
    for name, value in parameters.items():
        spec = PARAMETERS.get(name)
        if spec is None:
            raise ArmSpecError(f"unknown parameter {name!r}; known: {', '.join(PARAMETERS)}")
        try:
            if isinstance(value, bool):
                raise TypeError
            number = spec.kind(value)
            if spec.kind is int and number != float(value):
                raise ValueError
        except (TypeError, ValueError):
            raise ArmSpecError(f"{name}: expected {spec.kind.__name__}, got {value!r}") from None
        if not spec.low <= number <= spec.high:
            raise ArmSpecError(f"{name}: {number} is outside [{spec.low}, {spec.high}]")
        cleaned[name] = number
    return cleaned


def arm_spec_parse(text: str) -> ArmSpec:
    """``algorithm[:name=value,name=value]``, e.g. ``sm2``, ``fsrs:desired_retention=0.9``."""
    algorithm, _, rest = text.strip().partition(":")
    algorithm = algorithm.strip().lower()
    if algorithm not in ALGORITHMS:
        raise ArmSpecError(
            f"arm {text!r}: unknown algorithm {algorithm!r}; one of {', '.join(ALGORITHMS)}"
        )
    parameters = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not value.strip():
            raise ArmSpecError(f"arm {text!r}: {part!r} is not name=value")
        parameters[name.strip()] = value.strip()
    try:
        return ArmSpec(algorithm, arm_parameters_clean(parameters))
    except ArmSpecError as exc:
        raise ArmSpecError(f"arm {text!r}: {exc}") from None


def arm_index_for_learner(experiment_id, learner_id, weights: list[int]) -> int:
    """The index of the arm a learner falls in: a point in [0, 1) from a hash of (experiment,
    learner), laid over the arms' cumulative shares in their order. Deterministic across
    processes and runs (no Python hash seed), independent between experiments (the
    experiment id is in the hash), and uniform enough that the split holds to about
    1/sqrt(n)."""
    import hashlib

    if not weights or any(w < 1 for w in weights):
        raise ArmSpecError("an experiment needs arms, each with a weight of at least 1")
    digest = hashlib.sha256(f"experiment:{experiment_id}:{learner_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    total, cumulative = sum(weights), 0
    for index, weight in enumerate(weights):
        cumulative += weight
        if point * total < cumulative:
            return index
    return len(weights) - 1  # unreachable: point < 1
