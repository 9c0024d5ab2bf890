"""``moebench serve``: throughput and latency percentiles for many users, simulated."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from harness.app.serve import serve_on
from harness.commands._common import console, one_machine, print_json
from harness.errors import HarnessError


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)


def _sweep(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise HarnessError(f"--sweep {text!r}: give concurrencies separated by commas, e.g. 1,8,32,128") from None


def _rate(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise HarnessError(f"--rate {text!r}: give requests per second, e.g. 2.5 (or inf for all at once)") from None
    if value != value:
        raise HarnessError("--rate must be a number")
    return value


def serve_cmd(
    machine: list[str] = typer.Option(..., "--machine", help="Machine spec (TOML/JSON), probe JSON, result.json, or a catalog id."),
    model: str = typer.Option("deepseek-v3", "--model", "-m", help="Catalog id, config.json, GGUF or safetensors index."),
    quant: str = typer.Option("fp8", "--quant", "-q", help="Quant name, <N>bpw, or a mix."),
    engine: str = typer.Option("auto", "--engine", help="Engine, optionally with a version: sglang@0.4.3."),
    placement: str = typer.Option("auto", "--placement", help="auto, cpu, gpu, hybrid."),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", "-c", help="Closed loop: this many clients, each sending its next request when its last completes."),
    rate: Optional[str] = typer.Option(None, "--rate", help="Open loop: Poisson arrivals, requests per second (inf: all at once)."),
    input_len: int = typer.Option(1024, "--input-len", help="Prompt tokens per request."),
    output_len: int = typer.Option(1024, "--output-len", help="Output tokens per request."),
    len_dist: str = typer.Option("fixed", "--len-dist", help="fixed; uniform:RATIO (lengths drawn from RATIO×len to len); lognormal:SIGMA or sharegpt (heavy-tailed around the given lengths as means; ShareGPT's are about 217 in / 200 out)."),
    prefix_hit: float = typer.Option(0.0, "--prefix-hit", help="Share of each prompt found in the prefix cache (0 to <1): not prefilled."),
    requests: Optional[int] = typer.Option(None, "--requests", help="Requests per point (default: 4 × concurrency, at least 100)."),
    kv_bytes: float = typer.Option(2.0, "--kv-bytes", help="Bytes per KV-cache element."),
    seed: int = typer.Option(0, "--seed", help="Seed for lengths and arrivals."),
    slo_ttft_ms: Optional[float] = typer.Option(None, "--slo-ttft-ms", help="TTFT limit for goodput."),
    slo_tpot_ms: Optional[float] = typer.Option(None, "--slo-tpot-ms", help="TPOT limit for goodput."),
    sweep: Optional[str] = typer.Option(None, "--sweep", help="Concurrencies to run, e.g. 1,8,32,128: the latency-throughput curve."),
    max_running: Optional[int] = typer.Option(None, "--max-running", help="Override the engine's running-request limit."),
    token_budget: Optional[int] = typer.Option(None, "--token-budget", help="Override the engine's tokens per iteration."),
    tensor_parallel: Optional[int] = typer.Option(None, "--tensor-parallel", help="GPUs per replica (default: the fastest that fits, as predict chooses; the node holds GPUs ÷ this replicas)."),
    mtp: bool = typer.Option(False, "--mtp", help="Multi-token prediction where the engine and model have it (DeepSeek MTP)."),
    expert_parallel: bool = typer.Option(False, "--expert-parallel", help="Data-parallel attention + expert parallelism over every GPU (SGLang --enable-dp-attention --ep N); a cluster always serves this way."),
    disaggregate: Optional[str] = typer.Option(None, "--disaggregate", help="PREFILL:DECODE nodes of the cluster: separate prefill and decode pools, the KV cache sent between them."),
    gpu_expert_layers: Optional[int] = typer.Option(None, "--gpu-expert-layers", help="Hybrid: routed-expert layers on the GPU (default: as many as fit beside the KV cache of 4 requests; 0: all in host RAM)."),
    nodes: Optional[int] = typer.Option(None, "--nodes", help="Serve on a cluster of this many of the machine's nodes (GPU machines; in place of the spec's [cluster] nodes)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (benchmark_serving key names)."),
) -> None:
    """Simulate many users: throughput, TTFT/TPOT/ITL/E2E percentiles, goodput, bottleneck."""
    machine_arg = one_machine(machine)
    points = _sweep(sweep)
    if not points and (concurrency is None) == (rate is None):
        raise HarnessError("give exactly one of --concurrency (closed loop) and --rate (open loop), or --sweep")
    out = serve_on(machine_arg, model=model, quant=quant, engine=engine, placement=placement, concurrency=concurrency,
                   rate=_rate(rate), input_len=input_len, output_len=output_len, len_dist=len_dist,
                   requests=requests, kv_dtype_bytes=kv_bytes, seed=seed, slo_ttft_ms=slo_ttft_ms,
                   slo_tpot_ms=slo_tpot_ms, sweep=points, max_running=max_running, token_budget=token_budget,
                   tensor_parallel=tensor_parallel, mtp=mtp, expert_parallel=expert_parallel,
                   disaggregate=disaggregate, prefix_hit=prefix_hit, nodes=nodes, gpu_expert_layers=gpu_expert_layers)
    if json_out:
        print_json(out)
        return
    print_serving(out)


def print_serving(out: dict) -> None:
    points = out.get("sweep") or [out]
    table = Table(title=f"{out['model']} · {out['quant']} on {out['machine']} — {out['placement']} / {out['engine']}, "
                        f"{out['input_len']} in / {out['output_len']} out", title_justify="left")
    for col in ("load", "output tok/s", "req/s", "TTFT p50 / p99 ms", "TPOT p50 / p99 ms", "tok/s per user",
                "bottleneck"):
        table.add_column(col, justify="left" if col in ("load", "bottleneck") else "right")
    for p in points:
        load = f"c={p['concurrency']}" if p.get("concurrency") else f"{p['request_rate']:g} req/s"
        user = 1000 / p["median_tpot_ms"] if p["median_tpot_ms"] else 0.0
        table.add_row(load, f"{p['output_throughput']:,.0f}", f"{p['request_throughput']:.2f}",
                      f"{p['median_ttft_ms']:,.0f} / {p['p99_ttft_ms']:,.0f}",
                      f"{p['median_tpot_ms']:.1f} / {p['p99_tpot_ms']:.1f}", f"{user:.1f}", p["bottleneck"])
    console.print(table)
    if out.get("nodes", 1) > 1:
        console.print(f"{out['layout']}: " + ", ".join(
            f"{p['output_throughput_per_node']:,.0f} output tok/s per node ({p['output_throughput_per_gpu']:,.0f} per GPU)"
            for p in points))
    if points[0].get("goodput") is not None:
        console.print("goodput (req/s meeting the SLO): " + ", ".join(f"{p['goodput']:.2f}" for p in points))
    cap = out.get("slo_capacity")
    if cap:
        limits = " and ".join(f"{cap['statistic'].upper()} {name} ≤ {cap[key]:g} ms" for name, key in
                              (("TTFT", "slo_ttft_ms"), ("TPOT", "slo_tpot_ms")) if cap[key] is not None)
        console.print(f"within the SLO ({limits}): up to {cap['max_concurrency']:,} concurrent users"
                      + (" (the search limit)" if cap["capped_at_search_limit"] else "")
                      + f", or {cap['max_request_rate']:.2f} requests/s arriving at random")
    for a in out["assumptions"]:
        console.print(f"  · {a}")
