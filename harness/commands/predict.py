"""``moebench predict``: tokens/s of a model on a described (or probed) machine, no probing."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from harness.commands._common import console, one_machine, fmt, print_json
from harness.app.api import predict_on


def register(app: typer.Typer) -> None:
    app.command("predict")(predict_cmd)


def predict_cmd(
    machine: list[str] = typer.Option(..., "--machine", help="Machine spec (TOML/JSON), probe JSON, result.json, or a catalog id (see `moebench machines`)."),
    model: str = typer.Option("deepseek-v3", "--model", "-m", help="Catalog id, config.json, GGUF or safetensors index."),
    quant: str = typer.Option("fp8", "--quant", "-q", help="Quant name, <N>bpw, or a mix like experts=q4_k_m,attention=q8_0."),
    engine: str = typer.Option("auto", "--engine", help="auto, ideal, llama.cpp, ik_llama.cpp, ktransformers, xingyun (the HY90 appliance's engine), vllm, sglang, tensorrt-llm, mlx (Apple GPUs)."),
    placement: str = typer.Option("auto", "--placement", help="auto, cpu, gpu, hybrid, multi-node."),
    context: int = typer.Option(4096, "--context", help="Tokens in the KV cache while decoding."),
    prompt: int = typer.Option(1024, "--prompt", help="Prompt length for prefill and time to first token."),
    batch: int = typer.Option(1, "--batch", help="Concurrent sequences decoded together."),
    kv_bytes: float = typer.Option(2.0, "--kv-bytes", help="Bytes per KV-cache element (2 = fp16/bf16, 1 = fp8/q8)."),
    mtp: bool = typer.Option(False, "--mtp", help="Use DeepSeek multi-token prediction where the engine supports it."),
    backend: str = typer.Option("auto", "--backend", help="GPU kernel backend: auto (the GPU vendor's own), cuda, rocm, vulkan, metal."),
    gpu_expert_layers: Optional[int] = typer.Option(None, "--gpu-expert-layers", help="Hybrid: routed-expert layers on the GPU (llama.cpp --n-cpu-moe / -ot; default: as many as fit, 0: all in host RAM)."),
    target_tps: float = typer.Option(20.0, "--target-tps", help="Per-user tok/s for 'users served' (also shown: what to upgrade, cost when the spec has a price)."),
    json_out: bool = typer.Option(False, "--json", help="Print the prediction as JSON."),
) -> None:
    """Predict decode/prefill tokens/s, TTFT, fit and bottleneck for a model on a machine."""
    machine_arg = one_machine(machine)
    pred = predict_on(machine_arg, model=model, quant=quant, engine=engine, placement=placement, context=context,
                      prompt=prompt, batch=batch, kv_dtype_bytes=kv_bytes, mtp=mtp, backend=backend, gpu_expert_layers=gpu_expert_layers,
                      target_tps=target_tps)
    if json_out:
        print_json(pred)
        return
    print_prediction(pred)


def print_prediction(p: dict) -> None:
    inp = p["inputs"]
    table = Table(title=f"{inp['model']} · {inp['quant']} on {p.get('machine', {}).get('name', 'machine')}",
                  title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("placement / engine", f"{p['placement']} / {p['engine']}")
    table.add_row("decode tok/s (per user)", fmt(p["decode_tokens_per_s"], 2))
    if inp["batch"] > 1:
        table.add_row(f"aggregate tok/s (batch {inp['batch']})", fmt(p["aggregate_tokens_per_s"], 1))
    table.add_row("prefill tok/s", fmt(p["prefill_tokens_per_s"], 1))
    table.add_row(f"TTFT s (prompt {inp['prompt']})", fmt(p["ttft_s"], 2))
    table.add_row("fits", "yes" if p["fits"] else "[red]no[/]")
    table.add_row("bottleneck", p["bottleneck"])
    for dev, classes in p["memory"].items():
        if classes:
            table.add_row(f"memory on {dev}", f"{sum(classes.values()) / 1e9:,.1f} GB")
    for part, t in p["time_per_token_s"].items():
        table.add_row(f"time/token: {part}", f"{t * 1000:,.2f} ms")
    users = p.get("users_at_target") or {}
    if users:
        table.add_row(f"users at ≥ {users['target_tokens_per_s']:g} tok/s each", str(users["max_users"]))
    cost = p.get("cost")
    if cost:
        table.add_row("tok/s per 10k " + cost["currency"], f"{cost['tokens_per_s_per_10k']:,.2f}")
        table.add_row(f"{cost['currency']} per 1M tokens (hardware only)", f"{cost['cost_per_million_tokens']:,.2f}")
    console.print(table)
    upgrades = [u for u in p.get("upgrades", []) if u.get("gain_pct") is not None][:4]
    if upgrades:
        console.print("what to upgrade: " + "; ".join(f"{u['change']} {u['gain_pct']:+.0f}%" for u in upgrades))
    if cost:
        console.print(f"  · cost: {cost['assumption']}")
    for a in p["assumptions"]:
        console.print(f"  · {a}")
