"""``moebench plan`` as a function: the candidates (each machine's layouts, engines and quants), prices
in one currency, and every candidate checked by ``serve_on`` itself — so each figure of the plan is
one ``moebench serve`` reproduces with the option's ``serve_command``."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

from harness.app.api import load_model_arg
from harness.app.serve import serve_on
from harness.documents.machines import load_machine, machine_ids
from harness.errors import HarnessError
from harness.hardware.gpu_sheet import is_amd
from harness.hardware.machine import GPU_GB, Machine
from harness.hardware.prices import RATES_DATE, RATES_PER_USD, RATES_SOURCE, check_currency, convert, rate_assumption
from harness.planning.search import CLUSTER, REPLICAS, Candidate, Target, assess, summarise
from harness.workload.quant import gguf_experts, parse_quant

MAX_USERS = 100_000
MAX_BOXES = 256
CLUSTER_SIZES = (2, 4, 8, 16, 32, 64, 128, 256)
GPU_ENGINES_NVIDIA = ("sglang", "vllm", "tensorrt-llm")
GPU_ENGINES_AMD = ("sglang", "vllm")
GGUF_ENGINES = ("llama.cpp", "ik_llama.cpp")
DEFAULT_QUANTS = ("fp8", "q4_k_m")
MAX_WORKERS = 8
# A disaggregated cluster's prefill pool: a quarter of its nodes (DeepSeek's day-6 unit: 4 prefill and
# 18 decode nodes, about a fifth; a starting split, not searched).
PREFILL_SHARE = 0.25


def is_gguf(quant: str) -> bool:
    """GGUF recipes run on the llama.cpp family and KTransformers; the GPU serving engines load
    FP8/INT4/NVFP4 checkpoints instead."""
    return gguf_experts(parse_quant(quant))


def _weights_gb(model: Any, quant: str) -> float:
    return sum(parse_quant(quant).weight_bytes(model).values()) / GPU_GB  # as GpuSpec.memory_gb counts


def layouts(m: Machine, model: Any, quant: str, max_boxes: int) -> list[dict[str, Any]]:
    """The ways one box (node) ``m`` can serve ``model`` at ``quant``: layout label, engine, kind, the
    counts to try and the `serve` flags. GPU serving engines take FP8/INT4 checkpoints, the llama.cpp
    family GGUF files; experts go to host RAM only where the GPUs cannot hold the weights."""
    gguf = is_gguf(quant)
    out: list[dict[str, Any]] = []

    def add(layout: str, engine: str, placement: str, kind: str = REPLICAS, *flags: str) -> None:
        counts = tuple(range(1, max_boxes + 1)) if kind == REPLICAS else tuple(n for n in CLUSTER_SIZES
                                                                              if n <= max_boxes)
        tp = flags[flags.index("--tensor-parallel") + 1] if "--tensor-parallel" in flags else None
        out.append({"layout": layout, "engine": engine, "kind": kind, "counts": counts,
                    "flags": ("--engine", engine, "--placement", placement, *flags),
                    "kwargs": (("engine", engine), ("placement", placement),
                               ("tensor_parallel", int(tp) if tp else None),
                               ("expert_parallel", "--expert-parallel" in flags))})

    # the llama.cpp family also loads MXFP4 GGUFs (ggml-org's gpt-oss files), which vLLM serves too
    ggml = gguf or parse_quant(quant).expert_recipe == "mxfp4"
    need = _weights_gb(model, quant)
    if m.has_unified_gpu:
        apple = any("apple" in g.model.lower() for g in m.gpus)
        if ggml:
            add("unified-memory GPU", "llama.cpp", "gpu")
        if apple and not gguf:
            add("unified-memory GPU", "mlx", "gpu")
        return out
    if not m.gpus:
        for engine in GGUF_ENGINES if ggml else ():
            add("CPU only", engine, "cpu")
        return out
    n, vram = m.gpu_count, m.gpu_memory_gb
    if vram < need:
        for engine in ("ktransformers", *(GGUF_ENGINES if ggml else ())):
            add("hybrid (experts in RAM)", engine, "hybrid")
    elif ggml:
        add("GPUs (layer split)", "llama.cpp", "gpu")
    if gguf or len(m.gpus) != 1:
        return out
    engines = GPU_ENGINES_AMD if is_amd(m.gpus[0].model) else GPU_ENGINES_NVIDIA
    sizes = sorted({2 ** i for i in range(n.bit_length()) if 2 ** i <= n} | {n})
    for tp in [t for t in sizes if t * m.gpus[0].memory_gb >= need]:
        label = f"TP{tp}" if tp == n else f"{n // tp}× TP{tp} per box"
        for engine in engines:
            add(label, engine, "gpu", REPLICAS, "--tensor-parallel", str(tp))
    if n >= 2 and m.gpus[0].interconnect_gbs:
        if vram >= need:
            add(f"EP{n} + DP attention", "sglang", "gpu", REPLICAS, "--expert-parallel")
        if n >= 4:
            add("EP cluster of nodes", "sglang", "gpu", CLUSTER, "--expert-parallel")
            add("PD-disaggregated EP cluster (¼ prefill)", "sglang", "gpu", CLUSTER,
                "--expert-parallel")
            out[-1]["prefill_share"] = PREFILL_SHARE
    return out


def _no_layout(name: str, m: Machine, quant: str, price: float | None, currency: str) -> dict[str, Any]:
    """The option for a machine on which no engine runs this quant: why, and what would."""
    why = ("the CPU engines load GGUF files: try --quant q4_k_m" if not m.gpus else
           "its GPUs run GGUF files with llama.cpp or FP8/INT4 checkpoints with the serving engines" if not
           m.has_unified_gpu else "its GPU runs GGUF files with llama.cpp (or MLX on Apple): try --quant q4_k_m")
    return {"machine": name, "machine_name": m.name, "layout": "—", "engine": "—", "quant": parse_quant(quant).name,
            "kind": REPLICAS, "unit_price": price, "currency": currency, "count": None, "users_served": 0,
            "meets_target": False, "within_budget": None, "price": None, "cost_per_million_output_tokens": None,
            "reason": f"does not run: no engine runs {parse_quant(quant).name} on this machine — {why}"}


def _price(machine_arg: str, m: Machine, overrides: dict[str, float], currency: str,
           used: set[str], notes: list[str]) -> float | None:
    if machine_arg in overrides:
        return overrides[machine_arg]
    if not m.price:
        return None
    if not m.currency:
        notes.append(f"{m.name}: its price {m.price:,.0f} states no currency, read as {currency}")
    src = check_currency(m.currency or currency, f"{machine_arg}: currency")
    used.add(src)
    if m.price_source and m.price_source.upper().startswith("ESTIMATE"):
        notes.append(f"{m.name}: price {m.price:,.0f} {src} is an estimate ({m.price_source[len('ESTIMATE'):].strip(' :')})")
    return convert(m.price, src, currency)


def parse_prices(items: Sequence[str], machines: Sequence[str]) -> dict[str, float]:
    """``--price ID=AMOUNT`` (or a bare AMOUNT when one machine is planned) in the plan's currency."""
    out: dict[str, float] = {}
    for item in items:
        key, sep, value = item.rpartition("=")
        if not sep:
            if len(machines) != 1:
                raise HarnessError(f"--price {item!r}: write MACHINE=AMOUNT when more than one machine is planned")
            key = machines[0]
        if key not in machines:
            raise HarnessError(f"--price {item!r}: {key!r} is not one of the planned machines ({', '.join(machines)})")
        try:
            amount = float(value.replace(",", "").replace("_", ""))
        except ValueError:
            raise HarnessError(f"--price {item!r}: {value!r} is not an amount") from None
        if not 0 < amount < 1e12:
            raise HarnessError(f"--price {item!r}: the amount must be above 0")
        out[key] = amount
    return out


@dataclass(frozen=True)
class _Context:
    """What a worker needs to run `serve` for a candidate (picklable: machines are frozen dataclasses)."""

    model: str
    machines: dict[str, Machine]
    input_len: int
    output_len: int

    def evaluate(self, cand: Candidate, count: int, concurrency: int, requests: int | None) -> dict[str, Any]:
        pools = cand.pools(count)
        return serve_on(self.machines[cand.machine], model=self.model, concurrency=concurrency,
                        input_len=self.input_len, output_len=self.output_len, requests=requests,
                        nodes=count if cand.kind == CLUSTER else 1,
                        disaggregate=f"{pools[0]}:{pools[1]}" if pools else None, **dict(cand.serve_kwargs))


def _assess_one(job: tuple[Candidate, Target, str, _Context]) -> dict[str, Any]:
    cand, target, currency, context = job
    return assess(cand, target, context.evaluate, currency)


def _assess_all(cands: list[Candidate], target: Target, currency: str, context: _Context,
                progress: Callable[[int, int], None] | None) -> list[dict[str, Any]]:
    """Each candidate assessed, one worker process per core (the simulator is single-threaded), the GPU
    nodes' candidates first so no core idles at the end."""
    workers = max(1, min(MAX_WORKERS, (os.cpu_count() or 1), len(cands)))
    jobs = [(c, target, currency, context) for c in sorted(cands, key=lambda c: -(c.unit_price or 0.0))]
    options: list[dict[str, Any]] = []
    if workers == 1:
        for job in jobs:
            options.append(_assess_one(job))
            if progress:
                progress(len(options), len(jobs))
        return options
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_assess_one, job) for job in jobs]
        try:
            for fut in as_completed(futures):
                options.append(fut.result())
                if progress:
                    progress(len(options), len(jobs))
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return options


def plan_for(*, model: str = "deepseek-v3", quants: Sequence[str] = DEFAULT_QUANTS, users: int, min_tps: float,
             max_ttft_ms: float | None = None, input_len: int = 1000, output_len: int = 1000,
             budget: float | None = None, currency: str = "CNY", machines: Sequence[str] = (),
             max_boxes: int = 32, prices: Sequence[str] = (), kwh_price: float | None = None,
             progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """The plan: every option with its count, users served, price and cost, and the best one."""
    if not 1 <= users <= MAX_USERS:
        raise HarnessError(f"--users must be 1 to {MAX_USERS:,}, got {users}")
    if not 0 < min_tps <= 10_000:
        raise HarnessError(f"--min-tps must be above 0 and at most 10,000 tok/s, got {min_tps:g}")
    if max_ttft_ms is not None and not 0 < max_ttft_ms <= 1e9:
        raise HarnessError(f"--max-ttft-ms must be above 0, got {max_ttft_ms:g}")
    if budget is not None and not 0 < budget < 1e13:
        raise HarnessError(f"--budget must be above 0, got {budget:g}")
    if kwh_price is not None and not 0 <= kwh_price < 1000:
        raise HarnessError(f"--kwh-price must be 0 to 1000 per kWh, got {kwh_price:g}")
    if not 1 <= max_boxes <= MAX_BOXES:
        raise HarnessError(f"--max-boxes must be 1 to {MAX_BOXES}, got {max_boxes}")
    if not 1 <= input_len <= 1_000_000 or not 2 <= output_len <= 1_000_000:
        raise HarnessError("--input-len must be at least 1 and --output-len at least 2 (TPOT needs two tokens)")
    currency = check_currency(currency)
    names = list(dict.fromkeys(machines or machine_ids()))
    loaded = {name: load_machine(name) for name in names}
    overrides = parse_prices(prices, names)
    shape = load_model_arg(model)
    for q in quants:
        parse_quant(q)
    used: set[str] = set()
    notes: list[str] = []
    cands: list[Candidate] = []
    unrunnable: list[dict[str, Any]] = []
    for name, m in loaded.items():
        price = _price(name, m, overrides, currency, used, notes)
        node = replace(m, nodes=1)
        for q in dict.fromkeys(quants):
            found = layouts(node, shape, q, max_boxes)
            if not found:
                unrunnable.append(_no_layout(name, m, q, price, currency))
            for lay in found:
                flags = ("--model", model, "--quant", q, *lay["flags"], "--input-len", str(input_len),
                         "--output-len", str(output_len), *(("--nodes", "1") if m.nodes > 1 and lay["kind"] == REPLICAS else ()))
                cands.append(Candidate(machine=name, machine_name=m.name, layout=lay["layout"], engine=lay["engine"],
                                       quant=parse_quant(q).name, kind=lay["kind"], counts=lay["counts"],
                                       unit_price=price, power_kw=m.power_kw, serve_args=flags,
                                       serve_kwargs=(("quant", q), *lay["kwargs"]),
                                       prefill_share=lay.get("prefill_share", 0.0)))
    target = Target(users=users, min_tps=min_tps, max_ttft_ms=max_ttft_ms, input_len=input_len, output_len=output_len,
                    max_boxes=max_boxes, budget=budget, kwh_price=kwh_price)

    context = _Context(model=model, machines=loaded, input_len=input_len, output_len=output_len)
    result = summarise(_assess_all(cands, target, currency, context, progress) + unrunnable, target, currency)
    unpriced = sorted({c.machine_name for c in cands if c.unit_price is None})
    assumptions = [
        f"each option checked with `moebench serve` at its load: a closed loop of {users} users sending "
        f"{input_len}-token prompts for {output_len}-token answers, split evenly over the boxes behind a load balancer "
        "(a cluster carries them all); it meets the target when the median TPOT ≤ "
        f"{1000 / min_tps:.1f} ms" + (f" and the median TTFT ≤ {max_ttft_ms:g} ms" if max_ttft_ms else "")
        + " with no user queued behind the engine's running-request limit",
        "the fewest boxes found by bisection (a box's per-user speed does not rise with its load); users served "
        "is how many the boxes hold at the target, searched to about 10%",
        f"cost per 1M output tokens: the hardware price amortised over {result['amortisation_years']:g} years of "
        "generation at the planned load; power, hosting and idle time not included"
        + ("" if kwh_price is None else f"; electricity at {kwh_price:g} {currency}/kWh and full power draw"),
        *([rate_assumption(used, currency)] if rate_assumption(used, currency) else []),
        *([f"no price for {', '.join(unpriced)}: give --price MACHINE=AMOUNT ({currency})"] if unpriced else []),
        *notes,
    ]
    return {"model": shape.id, "users": users, "min_tps": min_tps, "max_ttft_ms": max_ttft_ms, "input_len": input_len,
            "output_len": output_len, "budget": budget, "currency": currency, "max_boxes": max_boxes,
            "machines": names, "quants": [parse_quant(q).name for q in quants], **result, "assumptions": assumptions,
            "rates": {"date": RATES_DATE, "per_usd": dict(RATES_PER_USD), "source": RATES_SOURCE}}


__all__ = ["layouts", "parse_prices", "plan_for"]
