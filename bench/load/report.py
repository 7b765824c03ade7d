"""The load bench's figures: one row per step, the table, and the two verdicts: throughput
at p99 under the target (with no errors) and the rate where it degrades."""

from dataclasses import dataclass

from bench._common import percentile
from bench.load.traffic import StepResult

KINDS = ("next", "attempt", "progress")
CPU_PARTS = ("web", "pg", "celery", "load", "other")
# Other jobs using this much of the machine (% of one core) make a step's latency suspect.
BUSY_OTHER_PERCENT = 25


def summarise(step: StepResult, cpu: dict[str, float], target_ms: float, repeat: bool) -> dict:
    """One table row. ``cpu``: CpuMeter.end()'s seconds per part."""
    samples = step.samples
    ok = [s for s in samples if s.status > 0]
    every = [s.latency_ms for s in samples]  # errors count too, at the time they took
    statuses: dict[int, int] = {}
    for s in samples:
        if s.status <= 0:
            statuses[-s.status] = statuses.get(-s.status, 0) + 1  # 0: timeout or refused
    row = {
        "rate": step.rate,
        "seconds": step.seconds,
        "achieved": len(ok) / step.seconds,
        "requests": len(samples),
        "errors": len(samples) - len(ok),
        "error_statuses": statuses,
        "p50": percentile(every, 0.50),
        "p95": percentile(every, 0.95),
        "p99": percentile(every, 0.99),
        **{
            f"p99_{kind}": percentile([s.latency_ms for s in samples if s.kind == kind], 0.99)
            for kind in KINDS
        },
        "lag_ms": step.max_lag_ms,
        # % of one core (2 cores: 200% is the whole machine), and CPU ms per request
        "cpu": {part: 100 * cpu[part] / cpu["wall"] for part in CPU_PARTS},
        "cpu_ms": {part: 1000 * cpu[part] / max(1, len(samples)) for part in CPU_PARTS},
        "repeat": repeat,
    }
    row["ok"] = row["errors"] == 0 and row["p99"] < target_ms
    return row


def print_table(rows: list[dict]) -> None:
    print(" rate  achieved  reqs  err    p50    p95    p99 | p99: next attempt progress |"
          "  CPU %: web  pg celery load other | web ms/req | gen lag")  # fmt: skip
    for r in rows:
        cpu = r["cpu"]
        note = " (repeat)" if r["repeat"] else ""
        if cpu["other"] >= BUSY_OTHER_PERCENT:
            note += " [machine busy]"
        if r["errors"]:
            note += f"  <- errors {r['error_statuses']}"
        elif not r["ok"]:
            note += "  <- over target"
        print(
            f"{r['rate']:5.0f} {r['achieved']:9.1f} {r['requests']:5d} {r['errors']:4d} "
            f"{r['p50']:6.1f} {r['p95']:6.1f} {r['p99']:6.1f} | {r['p99_next']:9.1f} "
            f"{r['p99_attempt']:7.1f} {r['p99_progress']:8.1f} | {cpu['web']:11.0f} "
            f"{cpu['pg']:3.0f} {cpu['celery']:6.0f} {cpu['load']:4.0f} {cpu['other']:5.0f} | "
            f"{r['cpu_ms']['web']:10.1f} | {r['lag_ms']:4.0f} ms{note}"
        )
    print("(ms from each request's scheduled arrival; rates in req/s; CPU in % of one core of 2;"
          " web ms/req: the gunicorn workers' CPU per request)")  # fmt: skip


@dataclass
class Verdict:
    best: dict | None  # the run that held at the highest rate
    degraded: dict | None  # the first run of the first rate above it that never held
    noisy: list[float]  # rates below ``best`` that never held: the machine was busier then

    def lines(self, target_ms: float) -> list[str]:
        if self.best:
            b = self.best
            held = (f"{b['rate']:.0f} req/s offered ({b['achieved']:.1f} answered/s, p99 "
                    f"{b['p99']:.1f} ms, no errors)")  # fmt: skip
            if self.noisy:
                held += "; failed below it: " + ", ".join(f"{r:.0f}" for r in self.noisy)
        else:
            held = "none (the first step is already over)"
        lines = [f"throughput at p99 < {target_ms:.0f} ms: {held}"]
        if self.degraded:
            d = self.degraded
            why = f"p99 {d['p99']:.1f} ms"
            if d["errors"]:
                why += f", {d['errors']} errors {d['error_statuses']}"
            slowest = max(KINDS, key=lambda kind: d[f"p99_{kind}"])
            lines.append(f"degrades at: {d['rate']:.0f} req/s ({why}; slowest: {slowest})")
        else:
            lines.append("degrades at: not reached")
        return lines


def verdict(rows: list[dict]) -> Verdict:
    """The highest rate that held in any of its runs. Another job on the machine can only
    make a step look worse, never better, so a step that held shows real capacity; a rate
    below it that failed was a busy spell (the table's "other" column shows it)."""
    good = [r for r in rows if r["ok"]]
    best = max(good, key=lambda r: r["rate"]) if good else None
    floor = best["rate"] if best else float("-inf")
    held = {r["rate"] for r in good}
    degraded = next((r for r in rows if r["rate"] > floor and r["rate"] not in held), None)
    noisy = sorted({r["rate"] for r in rows if r["rate"] < floor and r["rate"] not in held})
    return Verdict(best, degraded, noisy)
