"""The search behind ``moebench plan``. For each candidate — a machine, a layout on it, an engine and
a quant — the fewest boxes behind a load balancer (or the smallest cluster) whose simulated serving
gives every user the target speed, and the first token within the limit when one is set. A box's
per-user speed does not rise as its load does, so the count is found by bisection; the options are
then ranked by what they cost for the whole load.

Pure: the serving simulator comes in as ``evaluate`` (the app passes ``moebench serve`` itself, so
every figure here is one that command reproduces) and prices arrive in the plan's currency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from harness.errors import HarnessError
from harness.hardware.prices import AMORTISATION_YEARS, cost_per_million, electricity_per_million
from harness.serving.capacity import queue_ttft_limit_ms

REPLICAS, CLUSTER = "replicas", "cluster"
MAX_USERS_SEARCH = 4096  # a box's own users are searched no further (the headroom column's ceiling)
HEADROOM_SEARCH = 4  # ... nor beyond this many times the users asked for: more headroom is not a question

@dataclass(frozen=True)
class Target:
    """What the buyer asks for: ``users`` at ``min_tps`` each (median TPOT ≤ 1000 / min_tps ms)."""

    users: int
    min_tps: float
    max_ttft_ms: float | None = None
    input_len: int = 1000
    output_len: int = 1000
    max_boxes: int = 32
    budget: float | None = None
    kwh_price: float | None = None

    @property
    def max_tpot_ms(self) -> float:
        return 1000.0 / self.min_tps

    def ttft_limit_ms(self, alone_ttft_ms: float) -> float:
        """The TTFT a served user may see: the buyer's limit, else the queueing bound."""
        return self.max_ttft_ms if self.max_ttft_ms is not None else queue_ttft_limit_ms(alone_ttft_ms)

    def met_by(self, point: dict[str, Any], ttft_limit_ms: float) -> bool:
        """Median TPOT within the speed, median TTFT within the limit, and nobody waiting for a slot
        (a user queued behind the engine's running limit is not being served)."""
        tpot, ttft = point.get("median_tpot_ms"), point.get("median_ttft_ms")
        return (bool(tpot) and tpot <= self.max_tpot_ms and not queued(point)
                and ttft is not None and ttft <= ttft_limit_ms)


def queued(point: dict[str, Any]) -> bool:
    """Whether the point's clients outnumber the requests its engine runs at once."""
    slots = (point.get("max_running") or 0) * (point.get("replicas") or 1)
    return bool(slots) and (point.get("concurrency") or 0) > slots


@dataclass(frozen=True)
class Candidate:
    """One way to serve the load. ``kind`` REPLICAS: ``count`` identical boxes behind a load balancer,
    each carrying its share; CLUSTER: one deployment over ``count`` nodes carrying all of it."""

    machine: str  # as the user named it: catalog id or file
    machine_name: str
    layout: str
    engine: str
    quant: str
    kind: str = REPLICAS
    counts: tuple[int, ...] = (1,)  # the box (node) counts to try, ascending
    unit_price: float | None = None  # one box (node), in the plan's currency
    power_kw: float | None = None  # one box (node)
    serve_args: tuple[str, ...] = ()  # `moebench serve` flags for this layout, beyond load and nodes
    serve_kwargs: tuple[tuple[str, Any], ...] = ()  # the same as ``serve_on`` keywords (placement, quant ...)
    prefill_share: float = 0.0  # a cluster's share of nodes in a separate prefill pool (0: not disaggregated)

    def pools(self, count: int) -> tuple[int, int] | None:
        """(prefill nodes, decode nodes) of a disaggregated cluster of ``count`` nodes, else None."""
        if self.kind != CLUSTER or not self.prefill_share or count < 2:
            return None
        p = min(count - 1, max(1, round(count * self.prefill_share)))
        return p, count - p

    def concurrency(self, count: int, users: int) -> int:
        return -(-users // count) if self.kind == REPLICAS else users


# (candidate, count, concurrency, requests or None for serve's default) -> the `moebench serve` point
Evaluate = Callable[[Candidate, int, int, "int | None"], dict[str, Any]]

# Requests per point of the headroom search (the planned point itself runs serve's default): enough for
# the closed loop to pass its first wave, fewer than serve's 4 per client.
def _search_requests(concurrency: int) -> int:
    return max(64, 2 * concurrency)


class _Probe:
    """A candidate's simulated points, each run once."""

    def __init__(self, cand: Candidate, target: Target, evaluate: Evaluate) -> None:
        self.cand, self.target, self.evaluate = cand, target, evaluate
        self.points: dict[tuple[int, int, bool], dict[str, Any]] = {}
        self.limits: dict[int, float] = {}

    def point(self, count: int, concurrency: int | None = None, exact: bool = True) -> dict[str, Any]:
        """Serve's own point (``exact``: its default number of requests) or a cheaper one for the search."""
        c = concurrency if concurrency is not None else self.cand.concurrency(count, self.target.users)
        key = (count if self.cand.kind == CLUSTER else 1, c, exact)
        if key not in self.points:
            self.points[key] = self.evaluate(self.cand, count, c, None if exact else _search_requests(c))
        return self.points[key]

    def ttft_limit(self, count: int) -> float:
        """The TTFT a served user may see on this deployment (one user alone sets the queueing bound)."""
        key = count if self.cand.kind == CLUSTER else 1
        if key not in self.limits:
            alone = self.point(count, 1)["median_ttft_ms"] if self.target.max_ttft_ms is None else 0.0
            self.limits[key] = self.target.ttft_limit_ms(alone)
        return self.limits[key]

    def ok(self, count: int, concurrency: int | None = None, exact: bool = True) -> bool:
        return self.target.met_by(self.point(count, concurrency, exact), self.ttft_limit(count))


def _smallest(items: list[int], ok: Callable[[int], bool]) -> int | None:
    """The first item of ``items`` (ascending) for which ``ok`` holds, given it holds from there on."""
    if not items or not ok(items[-1]):
        return None
    lo, hi = -1, len(items) - 1  # ok(items[hi]) holds; lo is below every passing index
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(items[mid]) else (mid, hi)
    return items[hi]


def _users_served(probe: _Probe, count: int) -> tuple[int, bool]:
    """The most users one deployment of ``count`` serves at the target (at least its planned share),
    and whether the search stopped at its ceiling."""
    c0 = probe.cand.concurrency(count, probe.target.users)
    ceiling = min(MAX_USERS_SEARCH, max(2 * c0, HEADROOM_SEARCH * c0))
    lo, hi = c0, None
    if probe.cand.kind == REPLICAS and count > 1:  # the count below fails, so its share is too many
        hi = probe.cand.concurrency(count - 1, probe.target.users)
    else:
        c = c0
        while hi is None and c < ceiling:
            c = min(ceiling, 2 * c)
            if probe.ok(count, c, exact=False):
                lo = c
            else:
                hi = c
        if hi is None:
            return lo, True
    while hi - lo > max(1, lo // 10):  # to about 10%: the figure is headroom, not a promise
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if probe.ok(count, mid, exact=False) else (lo, mid)
    return lo, False


def _speed(point: dict[str, Any]) -> float:
    tpot = point.get("median_tpot_ms")
    return 1000.0 / tpot if tpot else 0.0


def _why_slow(cand: Candidate, target: Target, count: int, point: dict[str, Any], ttft_limit_ms: float) -> str:
    c = point.get("concurrency") or cand.concurrency(count, target.users)
    where = (f"even {count} boxes ({c} user{'s' if c > 1 else ''} each)" if cand.kind == REPLICAS and count > 1 else
             f"one box with {c} users" if cand.kind == REPLICAS else f"a {count}-node cluster with {c} users")
    if queued(point):
        slots = point["max_running"] * (point.get("replicas") or 1)
        return (f"too slow: {where} — {c} users exceed the {slots} request{'s' if slots != 1 else ''} the engine runs "
                "at once, the rest queue")
    speed = _speed(point)
    if speed < target.min_tps:
        return f"too slow: {where} give {speed:.1f} tok/s per user (target {target.min_tps:g})"
    why = "" if target.max_ttft_ms is not None else ": users queue"
    return (f"too slow to start: {where} give a median first token after {point['median_ttft_ms'] / 1000:.1f} s "
            f"(limit {ttft_limit_ms / 1000:.3g} s{why})")


def _why_alone(target: Target, point: dict[str, Any], ttft_limit_ms: float) -> str:
    speed = _speed(point)
    if speed < target.min_tps:
        return f"too slow even for one user: one user alone gets {speed:.1f} tok/s (target {target.min_tps:g})"
    return (f"too slow to start even for one user: the first token comes after {point['median_ttft_ms'] / 1000:.1f} s "
            f"(limit {ttft_limit_ms / 1000:.3g} s)")


def _command(cand: Candidate, count: int, concurrency: int) -> str:
    pools = cand.pools(count)
    nodes = (["--nodes", str(count)] if cand.kind == CLUSTER else []) + (
        ["--disaggregate", f"{pools[0]}:{pools[1]}"] if pools else [])
    return " ".join(["moebench", "serve", "--machine", cand.machine, *cand.serve_args, *nodes,
                     "--concurrency", str(concurrency)])


def _base(cand: Candidate, currency: str) -> dict[str, Any]:
    return {"machine": cand.machine, "machine_name": cand.machine_name, "layout": cand.layout,
            "engine": cand.engine, "quant": cand.quant, "kind": cand.kind, "unit_price": cand.unit_price,
            "currency": currency, "count": None, "users_served": 0, "meets_target": False, "within_budget": None,
            "price": None, "cost_per_million_output_tokens": None}


def assess(cand: Candidate, target: Target, evaluate: Evaluate, currency: str) -> dict[str, Any]:
    """One candidate's option: its count, users served, price and cost, or why it fails."""
    out = _base(cand, currency)
    counts = [n for n in cand.counts if n <= target.max_boxes]
    if not counts:
        return out | {"reason": f"needs more than {target.max_boxes} boxes (--max-boxes)"}
    price = cand.unit_price
    if target.budget is not None and price is not None and price * counts[0] > target.budget:
        return out | {"count": counts[0], "price": price * counts[0], "within_budget": False,
                      "reason": f"over budget: {counts[0]} × {price:,.0f} {currency} is more than {target.budget:,.0f}"}
    probe = _Probe(cand, target, evaluate)
    first: int | None = None
    error: HarnessError | None = None
    for k in counts:  # the smallest deployment that runs (a cluster's pools may need more nodes)
        try:
            alone = probe.point(k, 1)  # one user alone: the fastest this deployment gets
            first = k
            break
        except HarnessError as exc:
            error = exc
            if cand.kind == REPLICAS:  # more boxes change nothing about whether one runs
                break
    if first is None:
        return out | {"reason": f"does not run: {error}"}
    counts = [k for k in counts if k >= first]
    try:
        if not probe.ok(counts[0], 1):
            return out | {"count": counts[0], "tokens_per_s_per_user": _speed(alone), "per_box_concurrency": 1,
                          "median_ttft_ms": alone.get("median_ttft_ms"), "closeness": _speed(alone) / target.min_tps,
                          "reason": _why_alone(target, alone, probe.ttft_limit(counts[0]))}
        # the fewest boxes on the search's cheaper loads, then confirmed on serve's own (one more box at a
        # time while that misses: the two differ by a few per cent at most)
        count = _smallest(counts, lambda k: probe.ok(k, exact=False))
        while count is not None and not probe.ok(count):
            later = [k for k in counts if k > count]
            count = later[0] if later else None
    except HarnessError as exc:
        return out | {"reason": f"does not run: {exc}"}
    if count is None:
        worst = counts[-1]
        point = probe.point(worst)
        return out | {"count": worst, "tokens_per_s_per_user": _speed(point),
                      "reason": _why_slow(cand, target, worst, point, probe.ttft_limit(worst)),
                      "per_box_concurrency": cand.concurrency(worst, target.users),
                      "median_ttft_ms": point.get("median_ttft_ms"), "closeness": _speed(point) / target.min_tps}
    c = cand.concurrency(count, target.users)
    point = probe.point(count)
    try:
        per_deployment, capped = _users_served(probe, count)
    except HarnessError:  # a larger load stopped running: the planned one stands
        per_deployment, capped = c, False
    served = per_deployment * (count if cand.kind == REPLICAS else 1)
    # the load balancer fills boxes to c users; the others carry fewer, at about the same rate per user
    throughput = point["output_throughput"] * (target.users / c if cand.kind == REPLICAS else 1.0)
    total = price * count if price is not None else None
    within = None if total is None or target.budget is None else total <= target.budget
    power = cand.power_kw * count if cand.power_kw else None
    reason = ("meets the target" if within is not False else
              f"over budget: {count} × {price:,.0f} = {total:,.0f} {currency}, more than {target.budget:,.0f}")
    if total is None:
        reason += " (no price: give --price to rank it)"
    return out | {
        "count": count, "per_box_concurrency": c, "users_served": served, "users_served_capped": capped,
        "headroom": served / target.users - 1, "meets_target": True, "within_budget": within, "price": total,
        "cost_per_user": total / target.users if total is not None else None,
        "cost_per_million_output_tokens": cost_per_million(total, throughput) if total else None,
        "power_kw": power,
        "electricity_per_million_output_tokens": (electricity_per_million(power, target.kwh_price, throughput)
                                                  if power and target.kwh_price is not None else None),
        "output_throughput": throughput, "tokens_per_s_per_user": _speed(point),
        "median_tpot_ms": point["median_tpot_ms"], "median_ttft_ms": point["median_ttft_ms"],
        "p99_ttft_ms": point.get("p99_ttft_ms"), "serve_command": _command(cand, count, c), "reason": reason}


def _rank(option: dict[str, Any]) -> tuple:
    """Meeting the target within the budget by price, then unpriced, then over budget; then the misses,
    nearest first; ties by name so the order never depends on which candidate finished first."""
    names = (option["machine"], option["layout"], option["engine"], option["quant"])
    if option["meets_target"]:
        group = 0 if option["within_budget"] is not False and option["price"] is not None else \
            1 if option["price"] is None else 2
        return group, option["price"] or 0.0, option["cost_per_million_output_tokens"] or 0.0, names
    if option.get("closeness") is not None:
        return 3, -option["closeness"], 0.0, names
    return 4, 0.0, 0.0, names


def _closest_miss(options: list[dict[str, Any]], target: Target, currency: str) -> str:
    over = [o for o in options if o["meets_target"] and o["within_budget"] is False]
    unpriced = [o for o in options if o["meets_target"] and o["price"] is None]
    slow = [o for o in options if o.get("closeness") is not None]
    if over:
        o = over[0]
        return (f"nothing meets the target within the budget of {target.budget:,.0f} {currency}: the cheapest that "
                f"does is {o['count']} × {o['machine_name']} ({o['layout']}, {o['engine']}, {o['quant']}) at "
                f"{o['price']:,.0f} {currency}")
    if unpriced:
        o = unpriced[0]
        return (f"{o['count']} × {o['machine_name']} meets the target but has no price — give --price "
                f"{o['machine']}=AMOUNT to rank it")
    if slow:
        o = max(slow, key=lambda x: x["closeness"])
        return (f"nothing meets the target; the closest is {o['machine_name']} ({o['layout']}, {o['engine']}, "
                f"{o['quant']}): {o['reason']}")
    if not options:
        return "nothing meets the target: there were no candidates"
    o = options[0]
    return f"nothing meets the target: no candidate runs ({o['machine_name']}, {o['quant']}: {o['reason']})"


def summarise(options: list[dict[str, Any]], target: Target, currency: str) -> dict[str, Any]:
    """The assessed options ranked (cheapest meeting the target within the budget first) and ``best``:
    the first of them, or None with ``closest_miss`` saying what came nearest and why it misses."""
    options = sorted(options, key=_rank)
    ok = [o for o in options if _rank(o)[0] == 0]
    best = ok[0] if ok else None
    return {"options": options, "best": best, "closest_miss": None if best else _closest_miss(options, target, currency),
            "amortisation_years": AMORTISATION_YEARS}


def plan(candidates: Iterable[Candidate], target: Target, evaluate: Evaluate, currency: str) -> dict[str, Any]:
    """Every candidate assessed, then ranked (``summarise``)."""
    return summarise([assess(c, target, evaluate, currency) for c in candidates], target, currency)


__all__ = ["CLUSTER", "REPLICAS", "Candidate", "Target", "assess", "plan", "queued", "summarise"]
