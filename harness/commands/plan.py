"""``moebench plan``: the cheapest machines — one box, a fleet of boxes or a cluster — that serve N
users at a speed (and first-token) target, within a budget."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from harness.app.plan import DEFAULT_QUANTS, plan_for
from harness.commands._common import console, print_json, progress_bars
from harness.report.plan import write_plan_html


def register(app: typer.Typer) -> None:
    app.command("plan")(plan_cmd)


def _list(values: list[str]) -> list[str]:
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def plan_cmd(
    model: str = typer.Option("deepseek-v3", "--model", "-m", help="Catalog id, config.json, GGUF or safetensors index."),
    quant: list[str] = typer.Option([], "--quant", "-q", help=f"Quants to consider (repeat or comma-separate; default {', '.join(DEFAULT_QUANTS)})."),
    users: int = typer.Option(..., "--users", help="Concurrent users to serve."),
    min_tps: float = typer.Option(..., "--min-tps", help="Tokens/s each user must get (median TPOT ≤ 1000/X ms)."),
    max_ttft_ms: Optional[float] = typer.Option(None, "--max-ttft-ms", help="Median time to first token limit (default: users must not queue)."),
    input_len: int = typer.Option(1000, "--input-len", help="Prompt tokens per request."),
    output_len: int = typer.Option(1000, "--output-len", help="Output tokens per request."),
    budget: Optional[float] = typer.Option(None, "--budget", help="Most the whole purchase may cost, in --currency."),
    currency: str = typer.Option("CNY", "--currency", help="Currency of prices and the budget: CNY, USD or EUR."),
    machines: list[str] = typer.Option([], "--machines", help="Catalog ids or spec files (repeat or comma-separate; default: the whole catalog)."),
    max_boxes: int = typer.Option(32, "--max-boxes", help="Most boxes (or cluster nodes) of one machine."),
    price: list[str] = typer.Option([], "--price", help="MACHINE=AMOUNT in --currency, overriding the catalog or spec price (repeatable)."),
    kwh_price: Optional[float] = typer.Option(None, "--kwh-price", help="Electricity price per kWh in --currency (adds electricity per 1M tokens)."),
    html: Optional[str] = typer.Option(None, "--html", help="Also write the plan as an HTML page."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (options, best, closest_miss, assumptions)."),
) -> None:
    """Find the cheapest machines that serve N users at a speed target: ranked options and why others fail."""
    with progress_bars(not json_out) as bar:
        out = plan_for(model=model, quants=_list(quant) or list(DEFAULT_QUANTS), users=users, min_tps=min_tps,
                       max_ttft_ms=max_ttft_ms, input_len=input_len, output_len=output_len, budget=budget,
                       currency=currency, machines=_list(machines), max_boxes=max_boxes, prices=price,
                       kwh_price=kwh_price, progress=lambda done, total: bar("candidates", done, total))
    if html:
        out["html"] = write_plan_html(out, html)
    if json_out:
        print_json(out)
        return
    print_plan(out)


def _money(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


SHOWN = 15  # options printed on a terminal (--json and --html have them all)
WIDE = 110  # columns from which the cost per token and TTFT columns are printed too


def print_plan(out: dict) -> None:
    cur = out["currency"]
    title = (f"{out['users']} users of {out['model']} at ≥ {out['min_tps']:g} tok/s each"
             + (f", first token ≤ {out['max_ttft_ms']:g} ms" if out["max_ttft_ms"] else "")
             + f" — {out['input_len']} in / {out['output_len']} out"
             + (f", budget {out['budget']:,.0f} {cur}" if out["budget"] else ""))
    table = Table(title=title, title_justify="left")
    wide = console.width >= WIDE  # a narrow terminal keeps the columns a choice turns on
    cols = ["#", "machine", "n", "layout", "engine", "quant", "users", f"price {cur}"]
    cols += [f"{cur}/1M out", "tok/s/user", "TTFT s"] if wide else ["tok/s/user"]
    for col in cols:
        table.add_column(col, justify="left" if col in ("machine", "layout", "engine", "quant") else "right",
                         overflow="fold")
    meets = [o for o in out["options"] if o["meets_target"]]
    for i, o in enumerate(meets[:SHOWN], 1):
        served = ("≥" if o.get("users_served_capped") else "") + f"{o['users_served']:,}"
        style = "bold green" if o == out["best"] else ("yellow" if o["within_budget"] is False else None)
        cells = [str(i), o["machine"], str(o["count"]), o["layout"], o["engine"], o["quant"], served, _money(o["price"])]
        cells += ([_money(o["cost_per_million_output_tokens"], 1), f"{o['tokens_per_s_per_user']:.1f}",
                   f"{o['median_ttft_ms'] / 1000:.1f}"] if wide else [f"{o['tokens_per_s_per_user']:.1f}"])
        table.add_row(*cells, style=style)
    if meets:
        console.print(table)
    if len(meets) > SHOWN:
        console.print(f"… and {len(meets) - SHOWN} more that meet the target (--json or --html for all)")
    best = out["best"]
    if best:
        console.print(f"[bold]best:[/bold] {best['count']} × {best['machine_name']} ({best['layout']}, {best['engine']}, "
                      f"{best['quant']}) for {best['price']:,.0f} {cur}, serving {best['users_served']:,} users at the "
                      f"target. Check it: {best['serve_command']}", soft_wrap=True)
    else:
        console.print(f"[bold]no option meets the target:[/bold] {out['closest_miss']}")
    rejected = [o for o in out["options"] if not o["meets_target"]]
    if rejected:
        console.print(f"{len(rejected)} candidates rejected:")
        for o in rejected[:SHOWN]:
            console.print(f"  · {o['machine']} — {o['layout']}, {o['engine']}, {o['quant']}: {o['reason']}")
        if len(rejected) > SHOWN:
            console.print(f"  … and {len(rejected) - SHOWN} more (--json or --html for all)")
    for a in out["assumptions"]:
        console.print(f"  · {a}")
    if out.get("html"):
        console.print(f"wrote {out['html']}")


__all__ = ["plan_cmd", "print_plan"]
