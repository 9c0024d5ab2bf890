"""The requests a serving run sends: how many, how long their prompts and answers are, and when
they arrive (a closed loop of C clients, or Poisson arrivals at a rate)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from harness.errors import HarnessError

MAX_CLIENTS = 100_000
MAX_REQUESTS = 100_000
MAX_LEN = 1_000_000


@dataclass(frozen=True)
class Load:
    """What the clients do. Exactly one of ``concurrency`` (closed loop, like ``benchmark_serving
    --max-concurrency``: each client sends its next request when its last one completes) and
    ``rate`` (open loop: Poisson arrivals, requests/s; ``inf`` sends every request at once)."""

    input_len: int = 1024
    output_len: int = 1024
    concurrency: int | None = None
    rate: float | None = None
    requests: int = 200
    len_ratio: float = 1.0  # lengths uniform in [ratio·len, len] (vLLM/SGLang --random-range-ratio); 1 = fixed
    len_sigma: float = 0.0  # > 0: lengths log-normal with this sigma around a mean of the nominal length
    prefix_hit: float = 0.0  # share of each prompt already in the KV cache (a shared prefix): not prefilled
    seed: int = 0

    def check(self) -> Load:
        """The load itself, or a HarnessError naming the bad option."""
        if (self.concurrency is None) == (self.rate is None):
            raise HarnessError("give exactly one of --concurrency (closed loop) and --rate (open loop, requests/s)")
        if self.concurrency is not None and not 1 <= self.concurrency <= MAX_CLIENTS:
            raise HarnessError(f"--concurrency must be 1 to {MAX_CLIENTS:,}, got {self.concurrency}")
        if self.rate is not None and not self.rate > 0:
            raise HarnessError(f"--rate must be above 0 requests/s (or inf), got {self.rate}")
        if not 1 <= self.requests <= MAX_REQUESTS:
            raise HarnessError(f"--requests must be 1 to {MAX_REQUESTS:,}, got {self.requests}")
        for name, value in (("--input-len", self.input_len), ("--output-len", self.output_len)):
            if not 1 <= value <= MAX_LEN:
                raise HarnessError(f"{name} must be 1 to {MAX_LEN:,} tokens, got {value}")
        if not 0 < self.len_ratio <= 1:
            raise HarnessError(f"--len-dist uniform:RATIO needs 0 < RATIO <= 1, got {self.len_ratio}")
        if not 0 <= self.prefix_hit < 1:
            raise HarnessError(f"--prefix-hit must be at least 0 and below 1, got {self.prefix_hit}")
        if not 0 <= self.len_sigma <= 3:
            raise HarnessError(f"--len-dist lognormal:SIGMA needs 0 <= SIGMA <= 3, got {self.len_sigma}")
        return self


@dataclass(frozen=True)
class Request:
    index: int
    input_len: int
    output_len: int
    arrival: float | None  # open loop: when it is sent; closed loop: set when a client sends it


# Chat datasets (ShareGPT as vLLM's and SGLang's benchmark_serving sample it) have heavy-tailed
# lengths; they are drawn log-normal around the mean the user gives. SHAREGPT_SIGMA is a placeholder
# (no length histogram ships with the tool): the published rows give only means — 214-219 prompt
# tokens per request and ~200 output tokens (GPUStack's ShareGPT runs, calibration/serving.csv).
SHAREGPT_SIGMA = 1.0
SHAREGPT_INPUT_MEAN, SHAREGPT_OUTPUT_MEAN = 217, 200


def parse_len_dist(text: str) -> float:
    """``fixed`` → 1.0, ``uniform:0.5`` → 0.5 (lengths drawn from [0.5·len, len]); see ``parse_len_shape``."""
    return parse_len_shape(text)[0]


def parse_len_shape(text: str) -> tuple[float, float]:
    """(uniform ratio, log-normal sigma): ``fixed`` → (1, 0), ``uniform:0.5`` → (0.5, 0),
    ``lognormal:0.8`` → (1, 0.8), ``sharegpt`` → (1, SHAREGPT_SIGMA)."""
    text = text.strip().lower()
    if text in ("", "fixed"):
        return 1.0, 0.0
    if text == "sharegpt":
        return 1.0, SHAREGPT_SIGMA
    kind, _, ratio = text.partition(":")
    try:
        value = float(ratio)
    except ValueError:
        value = -1.0
    if kind == "lognormal" and 0 < value <= 3:
        return 1.0, value
    if kind != "uniform" or not 0 < value <= 1:
        raise HarnessError(f"--len-dist {text!r}: use fixed, uniform:RATIO (0 < RATIO <= 1), lognormal:SIGMA "
                           "(0 < SIGMA <= 3) or sharegpt")
    return value, 0.0


def make_requests(load: Load) -> list[Request]:
    """The run's requests, reproducible from the seed."""
    rng = random.Random(load.seed)

    def length(nominal: int) -> int:
        if load.len_sigma > 0:  # log-normal with mean ``nominal``, cut at 8× the mean
            mu = math.log(nominal) - load.len_sigma ** 2 / 2
            return max(1, min(8 * nominal, MAX_LEN, round(rng.lognormvariate(mu, load.len_sigma))))
        if load.len_ratio >= 1:
            return nominal
        return rng.randint(max(1, int(nominal * load.len_ratio)), nominal)

    t, out = 0.0, []
    for i in range(load.requests):
        arrival = None
        if load.rate is not None:
            if load.rate != float("inf") and i:
                t += rng.expovariate(load.rate)
            arrival = t if load.rate != float("inf") else 0.0
        out.append(Request(i, length(load.input_len), length(load.output_len), arrival))
    return out
