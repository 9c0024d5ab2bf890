"""Continuous batching, one iteration at a time, as vLLM's and SGLang's schedulers run it.

Each iteration (vLLM V1, mixed): running requests first (one decode token each, or the next chunk of
an unfinished prompt), then waiting requests in arrival order while the request limit, the token
budget and free KV pages allow. Prefill first (SGLang, vLLM V0 with MLA): when any prompt can run,
the step carries prompts only and the running requests' decode waits for a step without one. The
step's time comes from the step-time model for exactly that batch; a request
whose prompt completes in the step gets its first token at the step's end. A decode that needs a
KV page when none is free preempts the most recently admitted request, which frees its pages and
waits again from scratch (recompute, vLLM's default). A plain loop: an event library would add
nothing here, since every event is an iteration boundary.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from harness.errors import HarnessError
from harness.serving.scheduler import SchedulerConfig
from harness.serving.workload import Load, Request, make_requests

StepTime = Callable[[int, float, int, float], float]  # (n_decode, mean ctx, prefill tokens, prefill ctx) -> s
MAX_ITERATIONS = 20_000_000


@dataclass(frozen=True)
class PrefillPool:
    """A separate prefill pool in front of the simulated decode instance (prefill/decode
    disaggregation): prompts are prefilled there in arrival order, their KV cache moves over the
    interconnect, and the request joins the decode instance with its first token. The decode
    instance's share of the pool is one server whose time per prompt is ``share`` × the prompt's
    prefill time (``share`` = decode instances per prefill replica), while one prompt still takes
    its own prefill time."""

    prefill_s: Callable[[int], float]  # seconds one prefill replica takes for a prompt of n tokens
    share: float
    transfer_s_per_token: float  # KV cache of one prompt token over the interconnect


@dataclass
class _Seq:
    req: Request
    arrival: float
    target: int = 0  # tokens to prefill: the prompt, plus what was generated before a preemption
    admitted: int = 0  # admission order, for preemption
    kv: int = 0  # tokens in the KV cache
    generated: int = 0
    pages: int = 0
    first_token: float | None = None
    token_times: list[float] = field(default_factory=list)
    credit: float = 0.0  # speculative decoding: expected tokens not yet emitted

    def __post_init__(self) -> None:
        self.target = self.target or self.req.input_len

    @property
    def prefilling(self) -> bool:
        return self.kv < self.target

    def preempted(self) -> _Seq:
        """Back to waiting with its cache gone: prompt and tokens so far are prefilled again."""
        return _Seq(self.req, self.arrival, target=self.req.input_len + self.generated, generated=self.generated,
                    first_token=self.first_token, token_times=self.token_times)


@dataclass
class _Rank:
    """One data-parallel rank's scheduler: its queue, its running requests, its free KV pages."""

    free: int
    waiting: deque[_Seq] = field(default_factory=deque)
    running: list[_Seq] = field(default_factory=list)
    order: int = 0  # admissions so far


@dataclass(frozen=True)
class Trace:
    """What happened to every request (times in seconds from the start)."""

    arrivals: tuple[float, ...]
    first_tokens: tuple[float, ...]
    finishes: tuple[float, ...]
    input_lens: tuple[int, ...]
    output_lens: tuple[int, ...]
    token_times: tuple[tuple[float, ...], ...]
    preemptions: int
    iterations: int
    max_kv_tokens: int


def _pages(tokens: int, block: int) -> int:
    return -(-tokens // block)


def _decode_times(step_time: StepTime, n: int, ctx0: float, k: int) -> np.ndarray:
    """Seconds of ``k`` decode-only steps of ``n`` sequences whose mean context starts at ``ctx0``
    and grows by one a step. The step time is piecewise linear in the context (a maximum of linear
    terms, for caches that grow with it): where both ends and the middle agree with a line, the
    steps in between are on it; elsewhere the range is split."""
    first, last = step_time(n, ctx0, 0, 0.0), step_time(n, ctx0 + k - 1, 0, 0.0)
    if k <= 2:
        return np.array([first, last][:k])
    mid = (k - 1) // 2
    line = np.linspace(first, last, k)
    if abs(step_time(n, ctx0 + mid, 0, 0.0) - line[mid]) <= 1e-9 * max(first, 1e-12) or k <= 8:
        if k <= 8:
            return np.array([step_time(n, ctx0 + j, 0, 0.0) for j in range(k)])
        return line
    return np.concatenate([_decode_times(step_time, n, ctx0, mid + 1),
                           _decode_times(step_time, n, ctx0 + mid + 1, k - mid - 1)])


def _fast_forward(step_time: StepTime, ranks: list[_Rank], cfg: SchedulerConfig, t: float,
                  next_arrival: float | None) -> tuple[np.ndarray, list[int]] | None:
    """Cumulative times of the decode-only steps until the next finish or arrival, and the KV pages
    each rank's requests take in them, when no admission can happen in between; None when a step must
    be scheduled singly. Several ranks step together: each step lasts as long as the slowest rank's."""
    busy = [r for r in ranks if r.running]
    k = min(s.req.output_len - s.generated for r in busy for s in r.running)
    while k > 1:
        if all(sum(_pages(s.kv + k, cfg.block_size) - s.pages for s in r.running) <= r.free for r in busy):
            break
        k //= 2
    if k <= 1:
        return None
    steps = np.max([_decode_times(step_time, len(r.running), sum(s.kv for s in r.running) / len(r.running), k)
                    for r in busy], axis=0)
    dts = np.cumsum(steps)
    if next_arrival is not None:
        cut = int(np.searchsorted(t + dts, next_arrival, side="left")) + 1  # the step an arrival falls in ends it
        dts = dts[: min(k, cut)]
    if len(dts) <= 1:
        return None
    return dts, [sum(_pages(s.kv + len(dts), cfg.block_size) - s.pages for s in r.running) for r in ranks]


def _decode(running: list[_Seq], waiting: deque[_Seq], decode: list[_Seq], budget: int, free: int,
            preemptions: int, block: int) -> tuple[int, int, int]:
    """One decode token for each running request whose prompt is done, in admission order; a request
    that needs a page when none is free preempts the latest admitted. Returns (budget, preemptions,
    free pages) after it."""
    i = 0
    while i < len(running):
        seq = running[i]
        i += 1
        if seq.prefilling:
            continue
        need = _pages(seq.kv + 1, block) - seq.pages
        while need > free and running[-1] is not seq:  # preempt the latest admitted (not yet visited)
            victim = running.pop()
            free += victim.pages
            waiting.appendleft(victim.preempted())
            preemptions += 1
        if need > free or budget < 1:
            continue
        seq.pages += need
        free -= need
        decode.append(seq)
        budget -= 1
    return budget, preemptions, free


def _prefill(running: list[_Seq], waiting: deque[_Seq], chunks: list[tuple[_Seq, int]], decode: list[_Seq],
             cfg: SchedulerConfig, budget: int, free: int, order: int, *,
             decode_admitted: bool) -> tuple[int, int, int]:
    """The next chunk of each running request's unfinished prompt, then waiting requests in arrival
    order while the request limit, the budget and free pages allow. A request that arrives prefilled
    (disaggregation) decodes in this step with ``decode_admitted``, else in the next decode step.
    Returns (budget, free pages, admission counter) after it."""
    for seq in running:
        if seq.prefilling and budget > 0:
            n = min(budget, seq.target - seq.kv)
            need = _pages(seq.kv + n, cfg.block_size) - seq.pages
            if need <= free:
                seq.pages += need
                free -= need
                chunks.append((seq, n))
                budget -= n
    while waiting and len(running) < cfg.max_running and budget > 0:
        seq = waiting[0]
        n = min(budget, seq.target - seq.kv)
        need = _pages(seq.kv + n + (0 if n else 1), cfg.block_size)
        if need > free:
            break
        waiting.popleft()
        order += 1
        seq.admitted, seq.pages = order, need
        free -= need
        running.append(seq)
        if n:
            chunks.append((seq, n))
            budget -= n
        elif decode_admitted and seq.generated < seq.req.output_len and budget > 0:  # prefilled elsewhere
            decode.append(seq)
            budget -= 1
    return budget, free, order


def simulate(step_time: StepTime, load: Load, cfg: SchedulerConfig, kv_capacity_tokens: int, *,
             request_latency_s: float = 0.0, mtp_acceptance: float = 0.0, draft_tokens: int = 1,
             fast_forward: bool = True, prefill_pool: PrefillPool | None = None, ranks: int = 1) -> Trace:
    """Run every request of ``load`` to completion; deterministic for a seed. ``fast_forward`` computes
    runs of decode-only steps in one go (the same times; off only to check that). A request reaches the
    scheduler ``request_latency_s`` after it is sent (HTTP, tokenising, the server's own queue). With
    ``mtp_acceptance`` a > 0 (multi-token prediction, EAGLE), each decode step verifies 1 +
    ``draft_tokens`` tokens per sequence (the step costs that many tokens each) and emits 1 + a of
    them on average. With ``prefill_pool``
    prompts are prefilled there (``PrefillPool``) and this instance only decodes. With ``ranks`` > 1
    the instance is that many data-parallel attention ranks (SGLang's DP attention), each with its own
    scheduler and KV cache of ``kv_capacity_tokens``, requests dealt to them in turn (its data-parallel
    controller's round robin), stepping together."""
    fast_forward = fast_forward and not mtp_acceptance
    load = load.check()
    requests = make_requests(load)
    longest = max(r.input_len + r.output_len for r in requests)
    total_pages = kv_capacity_tokens // cfg.block_size
    if kv_capacity_tokens <= 0:
        raise HarnessError("the weights leave no room for a KV cache on this machine (they do not fit beside the "
                           "engine's reserve): use more or bigger GPUs, a smaller quant, or another placement")
    if _pages(longest, cfg.block_size) > total_pages:
        raise HarnessError(f"one request of {longest:,} tokens needs more KV cache than fits beside the weights "
                           f"({kv_capacity_tokens:,} tokens): shorten --input-len/--output-len or use a bigger machine")
    pending: list[tuple[float, int, Request, float]] = []  # (reaches the instance, index, request, sent)
    pool_free = 0.0

    def send(r: Request, at: float) -> None:
        nonlocal pool_free
        enter = at + request_latency_s
        if prefill_pool is not None:  # FIFO through the prefill pool, then the KV transfer
            one = prefill_pool.prefill_s(r.input_len - int(r.input_len * load.prefix_hit))
            start = max(enter, pool_free)
            pool_free = start + one * prefill_pool.share
            enter = start + one + r.input_len * prefill_pool.transfer_s_per_token
        heapq.heappush(pending, (enter, r.index, r, at))

    clients_next = deque(requests)
    if load.concurrency is not None:
        for _ in range(min(load.concurrency, len(requests))):
            send(clients_next.popleft(), 0.0)
    else:
        for r in requests:
            send(r, r.arrival or 0.0)
        clients_next.clear()
    pool = [_Rank(free=total_pages) for _ in range(ranks)]
    done: dict[int, _Seq] = {}
    t, preemptions, iterations, max_kv, dispatched = 0.0, 0, 0, 0, 0
    while True:
        for rank in pool:
            finished = [s for s in rank.running if s.generated >= s.req.output_len]
            if finished:
                rank.running = [s for s in rank.running if s.generated < s.req.output_len]
                for seq in finished:
                    rank.free += seq.pages
                    done[seq.req.index] = seq
                    if clients_next:
                        send(clients_next.popleft(), t)
        if len(done) == len(requests):
            break
        while pending and pending[0][0] <= t + 1e-12:
            enter, _, r, arrival = heapq.heappop(pending)
            seq = _Seq(r, arrival)
            seq.kv = int(r.input_len * load.prefix_hit)  # the cached prefix: its pages held, not computed
            if prefill_pool is not None:  # arrives prefilled, its first token sampled by the pool
                seq.kv, seq.generated, seq.first_token = r.input_len, 1, enter
                seq.token_times.append(enter)
            pool[dispatched % ranks].waiting.append(seq)  # round robin over the ranks
            dispatched += 1
        if not any(rank.running or rank.waiting for rank in pool):
            t = pending[0][0]
            continue
        if fast_forward and any(rank.running for rank in pool) and all(
                (not rank.waiting or len(rank.running) >= cfg.max_running)
                and (cfg.prefill_first or len(rank.running) <= cfg.token_budget)
                and not any(s.prefilling for s in rank.running) for rank in pool):
            steps = _fast_forward(step_time, pool, cfg, t, pending[0][0] if pending else None)
            if steps:
                dts, used = steps
                times = (t + dts).tolist()
                for rank, pages in zip(pool, used):
                    for seq in rank.running:
                        seq.token_times.extend(times)
                        seq.kv += len(times)
                        seq.generated += len(times)
                        seq.pages = _pages(seq.kv, cfg.block_size)
                    rank.free -= pages
                t += float(dts[-1])
                iterations += len(dts)
                max_kv = max(max_kv, max(total_pages - rank.free for rank in pool) * cfg.block_size)
                continue
        batches: list[tuple[list[_Seq], list[tuple[_Seq, int]]]] = []
        for rank in pool:
            budget = cfg.token_budget
            decode: list[_Seq] = []
            chunks: list[tuple[_Seq, int]] = []
            if cfg.prefill_first:  # prompts alone when any can run; the running batch decodes otherwise
                budget, rank.free, rank.order = _prefill(rank.running, rank.waiting, chunks, decode, cfg, budget,
                                                         rank.free, rank.order, decode_admitted=False)
                if not chunks:  # a decode batch is bounded by the request limit, not the prefill budget
                    budget, preemptions, rank.free = _decode(rank.running, rank.waiting, decode, len(rank.running),
                                                             rank.free, preemptions, cfg.block_size)
            else:  # running requests decode first, then prompt chunks fill the budget
                budget, preemptions, rank.free = _decode(rank.running, rank.waiting, decode, budget, rank.free,
                                                         preemptions, cfg.block_size)
                budget, rank.free, rank.order = _prefill(rank.running, rank.waiting, chunks, decode, cfg, budget,
                                                         rank.free, rank.order, decode_admitted=True)
            if decode or chunks:
                batches.append((decode, chunks))
        if not batches:
            if any(seq.generated >= seq.req.output_len for rank in pool for seq in rank.running):
                continue  # admitted already complete (a one-token output prefilled elsewhere)
            if not pending:
                raise HarnessError("the scheduler cannot make progress: a request needs more KV cache than is free")
            t = max(t, pending[0][0])
            continue
        # the ranks step together (their MoE layers exchange tokens): the step lasts as long as the
        # slowest rank's batch, a prompt on one rank holding up the others' decode
        dt = 0.0
        for decode, chunks in batches:
            n_dec = len(decode)
            ctx = sum(s.kv for s in decode) / n_dec if n_dec else 0.0
            p_tokens = sum(n for _, n in chunks)
            p_ctx = sum((s.kv + n / 2) * n for s, n in chunks) / p_tokens if p_tokens else 0.0
            dt = max(dt, step_time(n_dec * (1 + draft_tokens if mtp_acceptance else 1), ctx, p_tokens, p_ctx))
        t += dt
        iterations += 1
        if iterations > MAX_ITERATIONS:
            raise HarnessError("the simulation ran past 20 million iterations — fewer --requests or shorter outputs")
        for decode, chunks in batches:
            for seq in decode:
                seq.credit += 1 + mtp_acceptance
                n = min(int(seq.credit), seq.req.output_len - seq.generated)
                seq.credit -= int(seq.credit)
                seq.kv += n
                seq.generated += n
                seq.token_times.extend([t] * n)
            for seq, n in chunks:
                seq.kv += n
                if not seq.prefilling and seq.generated == 0:  # the step that ends the prompt samples a token
                    seq.generated, seq.first_token = 1, t
                    seq.token_times.append(t)
        max_kv = max(max_kv, max(total_pages - rank.free for rank in pool) * cfg.block_size)
    seqs = [done[i] for i in range(len(requests))]
    return Trace(arrivals=tuple(s.arrival for s in seqs), first_tokens=tuple(s.first_token or 0.0 for s in seqs),
                 finishes=tuple(s.token_times[-1] for s in seqs), input_lens=tuple(s.req.input_len for s in seqs),
                 output_lens=tuple(s.req.output_len for s in seqs),
                 token_times=tuple(tuple(s.token_times) for s in seqs), preemptions=preemptions,
                 iterations=iterations, max_kv_tokens=max_kv)
