"""The load bench's open-loop traffic: requests arrive at a fixed mean rate (Poisson arrivals),
whatever the server's speed, so a slow server shows as latency and errors instead of slowing
the load down. Latency is measured from each request's scheduled arrival, so time spent
waiting for the generator or in the server's listen queue counts (no coordinated omission).

Each request is one learner's, picked among the learners with nothing in flight: a learner
does one thing at a time, as a person in an app does. The mix: GET next items, POST an
attempt at one of them (a few are replays of the learner's previous attempt, as a client
retrying after a lost response does), GET progress.
"""

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field

import aiohttp

TIMEOUT_S = 10.0
# Past this many requests in flight the server is long gone; later arrivals count as errors.
MAX_IN_FLIGHT = 1_000
REPLAY_SHARE = 0.05  # of attempts: the previous attempt sent again with the same id
RIGHT_SHARE = 0.7


@dataclass
class Sample:
    kind: str
    latency_ms: float
    status: int  # 0: timeout, connection error or dropped


@dataclass
class StepResult:
    rate: float
    seconds: float
    samples: list[Sample]
    max_lag_ms: float  # how late the generator sent a request after its scheduled arrival


@dataclass
class _Learner:
    token: str
    session: str
    items: list = field(default_factory=list)  # atom ids from the last next-items answer
    last_attempt: dict | None = None


class Traffic:
    def __init__(self, plan: dict, mix: dict[str, float], seed: int) -> None:
        self.course = plan["course"]
        self.atoms = {a["id"]: a for a in plan["atoms"]}
        self.atom_ids = list(self.atoms)
        self.learners = [_Learner(p["token"], p["session"]) for p in plan["learners"]]
        self.idle = list(range(len(self.learners)))
        self.mix = mix
        self.rng = random.Random(seed)

    async def step(self, base: str, rate: float, seconds: float) -> StepResult:
        """Send requests to ``base`` at ``rate``/s for ``seconds``; wait for the last ones."""
        samples: list[Sample] = []
        tasks: set[asyncio.Task] = set()
        max_lag = 0.0
        connector = aiohttp.TCPConnector(limit=0, force_close=True)  # gunicorn sync: no keep-alive
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            start = time.perf_counter()
            due = 0.0
            while True:
                due += self.rng.expovariate(rate)
                if due >= seconds:
                    break
                delay = start + due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                scheduled = start + due
                max_lag = max(max_lag, time.perf_counter() - scheduled)
                kind = self.rng.choices(list(self.mix), weights=list(self.mix.values()))[0]
                if len(tasks) >= MAX_IN_FLIGHT:
                    samples.append(Sample(kind, TIMEOUT_S * 1000, 0))
                    continue
                request = self._request(http, base, kind, scheduled, samples)
                task = asyncio.create_task(request)
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks)
        return StepResult(rate, seconds, samples, max_lag * 1000)

    def _take_learner(self) -> tuple[int, bool]:
        """(learner index, whether it was idle)."""
        if self.idle:
            return self.idle.pop(self.rng.randrange(len(self.idle))), True
        return self.rng.randrange(len(self.learners)), False  # everyone is busy: share one

    async def _request(self, http, base, kind: str, scheduled: float, samples: list) -> None:
        index, was_idle = self._take_learner()
        learner = self.learners[index]
        headers = {
            "Authorization": f"Bearer {learner.token}",
            "Accept": "application/json",
            # As the TLS-terminating proxy in front of production gunicorn would send it.
            "X-Forwarded-Proto": "https",
        }
        status = 0
        try:
            if kind == "next":
                url = f"{base}/api/v1/scheduler/next/"
                query = {"course": self.course, "limit": "10", "session": learner.session}
                async with http.get(url, params=query, headers=headers) as response:
                    body = await response.read()
                    status = response.status if response.status == 200 else -response.status
                    if status == 200:
                        items = json.loads(body)["items"]
                        learner.items = [item["atom"]["id"] for item in items]
            elif kind == "attempt":
                body, expected = self._attempt_body(learner)
                url = f"{base}/api/v1/attempts/"
                async with http.post(url, json=body, headers=headers) as response:
                    await response.read()
                    status = response.status if response.status == expected else -response.status
                    if status > 0:
                        learner.last_attempt = body
            else:
                url = f"{base}/api/v1/progress/"
                async with http.get(url, headers=headers) as response:
                    await response.read()
                    status = response.status if response.status == 200 else -response.status
        except (TimeoutError, aiohttp.ClientError, ValueError, KeyError):
            status = 0  # no answer, or not the answer the API promises
        finally:
            if was_idle:
                self.idle.append(index)
        samples.append(Sample(kind, (time.perf_counter() - scheduled) * 1000, status))

    def _attempt_body(self, learner: _Learner) -> tuple[dict, int]:
        """(body, expected status): 201 for a new attempt, 200 for a replay."""
        if learner.last_attempt and self.rng.random() < REPLAY_SHARE:
            return learner.last_attempt, 200
        atom_id = learner.items.pop(0) if learner.items else self.rng.choice(self.atom_ids)
        atom = self.atoms[atom_id]
        response = atom["right"] if self.rng.random() < RIGHT_SHARE else atom["wrong"]
        body = {
            "client_attempt_id": str(uuid.uuid4()),
            "atom": atom_id,
            "response": response,
            "time_taken_ms": self.rng.randint(1_500, 25_000),
            "session": learner.session,
        }
        return body, 201
