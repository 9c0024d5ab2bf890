"""The plan page: the ranked options, the cost-against-users chart (each machine's options and the
Pareto front: no other option serves more users for less), why the others fail, and the assumptions;
laid out by ``reports/templates/plan.html.j2``, self-contained."""

from __future__ import annotations

from typing import Any

from harness.report._files import write_output
from harness.report._render import render
from harness.report.charts import Chart, Line


def pareto(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The priced options meeting the target that no other beats on both price and users served."""
    priced = sorted((o for o in options if o["meets_target"] and o["price"] is not None),
                    key=lambda o: (o["price"], -o["users_served"]))
    front: list[dict[str, Any]] = []
    for o in priced:
        if not front or o["users_served"] > front[-1]["users_served"]:
            front.append(o)
    return front


def plan_chart(plan: dict[str, Any]) -> Chart:
    prices = [o["price"] for o in plan["options"] if o["meets_target"] and o["price"]]
    scale, unit = (1e6, f"million {plan['currency']}") if prices and max(prices) >= 1e6 else (
        (1e3, f"thousand {plan['currency']}") if prices and max(prices) >= 1e4 else (1.0, plan["currency"]))
    lines = []
    machines = list(dict.fromkeys(o["machine_name"] for o in plan["options"] if o["meets_target"] and o["price"]))
    for i, name in enumerate(machines):
        pts = sorted((o["users_served"], o["price"]) for o in plan["options"]
                     if o["machine_name"] == name and o["meets_target"] and o["price"])
        lines.append(Line(label=name, xs=[p[0] for p in pts], ys=[p[1] / scale for p in pts], style="o", color_key=i))
    front = pareto(plan["options"])
    if len(front) > 1:
        lines.append(Line(label="Pareto front", xs=[o["users_served"] for o in front], ys=[o["price"] / scale for o in front],
                          style="--", color_key=7))
    return Chart(name="plan-cost-users", kind="lines", title="Price against users served at the target",
                 unit=unit, lines=tuple(lines), xlabel="users served at the target",
                 caption="each option meeting the target: its price for the planned load and how many users it holds")


def plan_html(plan: dict[str, Any]) -> str:
    chart = plan_chart(plan)
    meets = [o for o in plan["options"] if o["meets_target"]]
    rejected = [o for o in plan["options"] if not o["meets_target"]]
    return render("plan.html.j2", {"plan": plan, "meets": meets, "rejected": rejected, "charts": [chart],
                                   "chart": chart.name})


def write_plan_html(plan: dict[str, Any], target: str) -> str:
    """Render and write atomically; the path written."""
    return write_output(target, plan_html(plan))


__all__ = ["pareto", "plan_chart", "plan_html", "write_plan_html"]
