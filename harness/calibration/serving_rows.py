"""Published serving benchmarks (``data/calibration/serving.csv``, sources in SERVING.md beside it)
read as simulator runs: machine, model, quant, engine, lengths, load, and the measured output
throughput, TPOT and TTFT with the statistic each names. Rows the simulator cannot take yet
(prefill/decode disaggregation, several nodes, speculative decoding, dataset-shaped lengths, an
engine without a profile) are kept with the reason."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from harness.calibration.rows import model_id_for
from harness.calibration.serving_cells import (_concurrency, _lead, _slowest_first_token_s, _stat, engine_of,
                                               hybrid_reason, max_running, quant_of)
from harness.errors import HarnessError
from harness.fsutil import read_bounded_bytes
from harness.hardware.gpu_sheet import sheet_for
from harness.hardware.machine import GpuSpec, Machine
from harness.serving.eras import era_of, parse_month
from harness.serving.workload import SHAREGPT_INPUT_MEAN, SHAREGPT_OUTPUT_MEAN, SHAREGPT_SIGMA

MAX_BYTES = 16 * 1024 * 1024
_SKIP = (("prefill-only", "a prefill-only test: output throughput and TPOT are not measured"),
         ("simulated mtp", "MTP simulated by slowing attention: not a configuration an engine runs"),
         ("disable-cuda-graph", "CUDA graphs disabled: the engine profiles model each engine's default (graphs on)"))
# DeepSeek-V3 report §5.4.3: the second token's acceptance rate is 85-90%; a chain of n MTP steps is
# taken as accepting each next token with the same probability, independently (a derived figure:
# rows that state their accept length use theirs).
MTP_STEP_ACCEPTANCE = 0.85
# InferenceX (SemiAnalysis, formerly InferenceMAX) benchmark client: --random-range-ratio 0.8 (input
# and output lengths uniform from 0.8 of the nominal length to all of it), --num-prompts CONC x 10
INFERENCEX_RANGE_RATIO = 0.8
# vLLM's and SGLang's benchmark_serving default --num-prompts (a burst or rate row that states none)
CLIENT_PROMPTS = 1000
# SGLang's random dataset without --random-range-ratio 1 draws lengths up to the nominal one, about
# half of it on average (SERVING.md, "Columns"): uniform from 2% of the nominal length to all of it
RANDOM_LOW = 0.02


@dataclass(frozen=True)
class ServingCase:
    id: str
    source: str  # the source group: the unit of leave-one-source-out scoring
    usable: bool
    why_not: str = ""
    machine: Machine | None = None
    model_id: str = ""
    quant: str = ""
    engine: str = ""
    engine_version: str | None = None
    month: tuple[int, int] | None = None  # when it was measured (the era of a row without a version)
    expert_parallel: bool = False  # data-parallel attention + expert parallelism
    disaggregate: tuple[int, int] | None = None  # (prefill nodes, decode nodes)
    tensor_parallel: int | None = None  # one replica over more GPUs than a node has (TP across nodes)
    prefix_hit: float = 0.0  # share of each prompt a shared prefix serves from the prefix cache
    prefill_free: bool = False  # a decode-only test: prompts arrive prefilled
    max_running: int | None = None  # a running-request limit the row states (per rank)
    draft_tokens: int = 0  # speculative decoding: tokens drafted and verified per step
    accepted: float = 0.0  # of which accepted on average
    input_len: int = 0
    output_len: int = 0
    len_ratio: float = 1.0
    len_sigma: float = 0.0
    concurrency: int | None = None
    rate: float | None = None
    requests: int = 0
    output_throughput: float | None = None
    tpot_ms: float | None = None
    tpot_stat: str = "median"
    ttft_ms: float | None = None
    ttft_stat: str = "median"
    # a prefill-node test: prompts of input_len prefilled back to back (no decode), scored on the
    # input tokens per second one node of the machine delivers; token_budget is the per-GPU (per-rank)
    # prefill batch the row states, else the engine's default
    input_throughput: float | None = None
    token_budget: int | None = None
    assumptions: tuple[str, ...] = ()  # what the row leaves unstated and the run assumes (never fitted on)
    held_out: bool = False  # a row added after the fit (``split`` = check): scored out of sample, never fitted

    @property
    def era(self) -> str:
        """The engine build's era: by its version, else by when the row was measured."""
        return era_of(self.engine, self.engine_version, self.month)


# "2 nodes x 8x H100", "2x8 H100", "8x H200", "8 × H200", "8xH200"
_NODES = re.compile(r"\s*(\d+)\s*nodes?\s*[x×]\s*(\d+)\s*[x×]?\s*(.*)", re.IGNORECASE)
_NODES_SHORT = re.compile(r"\s*(\d+)\s*[x×]\s*(\d+)\s+(.*)", re.IGNORECASE)
_COUNT = re.compile(r"\s*(\d+)\s*[x×]\s*(.*)", re.IGNORECASE)
_WORD_COUNTS = {"dual": 2, "two": 2, "2": 2, "three": 3, "3": 3, "four": 4, "4": 4}
_NAMED_NODES = re.compile(r"\s*(dual|two|three|four|[234])[- ]nodes?\b[\s,:;(]*(?:each\s+)?(.*)", re.IGNORECASE)


def _not(row: dict[str, str], why: str) -> ServingCase:
    return ServingCase(id=row.get("id", "?"), source=row.get("source_group", ""), usable=False, why_not=why)


_PREFILL_NODE = re.compile(r"~?([0-9][0-9,]*(?:\.[0-9]+)?)\s*(k)?\s*input tok(?:ens)?/s per node", re.IGNORECASE)


def to_case(row: dict[str, str]) -> ServingCase:
    """A row as a simulator run, or the reason it is not one."""
    if _PREFILL_NODE.search(row.get("total_tok_s", "")):
        return _prefill_case(row)
    text = " ".join(row.get(k, "") for k in ("parallelism", "engine_and_version", "concurrency", "output_len",
                                             "quant")).lower()
    for key, why in _SKIP:
        if key in text:
            return _not(row, why)
    hw = row.get("hardware", "").split(";")[0]
    par = row.get("parallelism", "").lower()
    layout = _layout(row, hw, par)
    if isinstance(layout, str):
        return _not(row, layout)
    nodes, per_node, gpu_name, ep, pd, prefill_free = layout
    count = _COUNT.match(hw)
    tp = re.search(r"\btp\s*=?\s*(\d+)", par)
    if nodes == 1 and not ep:
        gpus = int(tp.group(1)) if tp else (int(count.group(1)) if count else 1)
    else:
        gpus = per_node
    sheet = sheet_for(gpu_name)
    if sheet is None:
        return _not(row, f"GPU {hw!r} is not in the GPU sheet")
    inp, out = _lead(row.get("input_len", "")), _lead(row.get("output_len", ""))
    hybrid = hybrid_reason(row, bool(inp and out) or "sharegpt" in (row.get("input_len", "") + row.get("output_len", "")).lower())
    if hybrid:
        return _not(row, hybrid)
    engine, engine_note = engine_of(row.get("engine_and_version", ""))
    model = model_id_for(row.get("model"))
    if not model:
        return _not(row, f"model {row.get('model', '')[:40]!r} is not in the catalog")
    quant, quant_note = quant_of(row, model)
    if not quant:
        return _not(row, f"quant {row.get('quant', '')[:40]!r} is not one moebench knows")
    assumptions = tuple(n for n in (engine_note, quant_note) if n)
    sigma = 0.0
    if "sharegpt" in (row.get("input_len", "") + row.get("output_len", "")).lower():
        inp, out, sigma = _sharegpt_means(row)
    if not inp or not out:
        return _not(row, "lengths follow a dataset (tool calls, production traffic) whose distribution is not in the row")
    conc_text = row.get("concurrency", "")
    burst = re.match(r"\s*unbounded:\s*(\d+)", conc_text)
    prompts = re.search(r"(\d+)\s*(?:prompts|requests)", conc_text + " " + row.get("quote", ""))
    concurrency = None if burst else _concurrency(conc_text)
    rate_text = row.get("request_rate", "").strip().lower()
    rate_m = re.match(r"(\d+(?:\.\d+)?|\.\d+)\s*(?:req|rps|/s|$)", rate_text)
    # an open loop (benchmark_serving --request-rate R): Poisson arrivals, a concurrency cap aside
    rate = float(rate_m.group(1)) if rate_m and not burst and float(rate_m.group(1)) > 0 else None
    if rate:
        concurrency = None
    elif not burst and not concurrency and rate_text.startswith("inf"):
        burst = True  # every prompt at once with no cap: a burst of the client's prompts
    if not burst and not concurrency and not rate:
        return _not(row, "no concurrency or request rate stated")
    decode_nodes = pd[1] if pd else nodes
    per_gpu_load = re.search(r"per (?:gpu|device)", conc_text.lower())
    if concurrency and per_gpu_load:
        concurrency *= per_node * decode_nodes if ep or nodes > 1 else per_node
    measured = _lead(row.get("output_tok_s_aggregate", ""), k=1000)
    per_gpu = _lead(row.get("output_tok_s_per_gpu", ""), k=1000)
    per_node_tps = _lead(row.get("output_tok_s_per_node", ""), k=1000)
    if measured is None and per_gpu is not None:
        measured = per_gpu * (per_node * decode_nodes if nodes > 1 or ep else (int(count.group(1)) if count else gpus))
    if measured is None and per_node_tps is not None:
        measured = per_node_tps * decode_nodes
    total = _lead(row.get("total_tok_s", ""), k=1000)
    if measured is None and total and sigma == 0 and not _PREFILL_NODE.search(row.get("total_tok_s", "")):
        measured = total * out / (inp + out)  # input + output tokens/s: the output's share by the lengths
    tpot, tpot_stat = _stat(row.get("per_user_latency_ms", ""), "TPOT")
    ttft, ttft_stat = _stat(row.get("ttft_ms", ""))
    if measured is None and tpot is None:
        return _not(row, "no output throughput or TPOT figure")
    version = re.search(r"v?(\d+\.\d+(?:\.\d+)?)", row.get("engine_and_version", ""))
    all_nodes = sum(pd) if pd else nodes
    machine = Machine(name=f"{all_nodes} x {gpus}x {sheet.pattern}", source=f"serving row {row.get('id')}",
                      nodes=all_nodes, gpus=(GpuSpec(model=gpu_name.strip(), count=gpus, memory_gb=sheet.memory_gb,
                                                     bandwidth_gbs=sheet.bandwidth_gbs, bf16_tflops=sheet.bf16_tflops),))
    draft, accepted = _speculation(row)
    if isinstance(burst, re.Match):
        n = int(burst.group(1))
    elif prompts:
        n = int(prompts.group(1))
    else:  # benchmark_serving's default --num-prompts for bursts and rates; a closed loop's four per client
        n = CLIENT_PROMPTS if not concurrency else max(100, 4 * int(concurrency))
    len_ratio = RANDOM_LOW if "random" in row.get("input_len", "").lower() else 1.0
    if len_ratio < 1 and measured and _slowest_first_token_s(row) > n * out * (1 + len_ratio) / 2 / measured:
        # a first token later than the whole run would last with lengths averaging half the nominal:
        # the client drew full lengths (vLLM's benchmark_serving: range ratio 0 is a fixed length)
        len_ratio = 1.0
    if row.get("source_group", "").startswith("InferenceX") and concurrency and not prompts:
        # InferenceX (InferenceMAX) runs benchmark_serving with --random-range-ratio 0.8 and
        # --num-prompts CONC x 10 (its README's benchmark client configuration)
        n, len_ratio = 10 * int(concurrency), INFERENCEX_RANGE_RATIO
    # SGLang's generated-shared-prefix dataset: a system prompt shared by every request, cached after its
    # first prefill (RadixAttention is on by default); held below all of the prompt, as a Load requires
    shared = re.search(r"([0-9][0-9,]*)\s*-?\s*tokens?\s+shared", row.get("input_len", ""), re.IGNORECASE)
    prefix_hit = min(0.95, float(shared.group(1).replace(",", "")) / inp) if shared and inp else 0.0
    return ServingCase(
        id=row["id"], source=row.get("source_group", ""), usable=True, machine=machine, model_id=model, quant=quant,
        prefix_hit=prefix_hit,
        engine=engine, engine_version=version.group(1) if version else None, month=_month(row), expert_parallel=ep,
        disaggregate=pd,
        tensor_parallel=nodes * per_node if nodes > 1 and not ep and not pd else None, prefill_free=prefill_free, draft_tokens=draft, accepted=accepted, max_running=max_running(par + " " + row.get("engine_and_version", "").lower()), input_len=int(inp), output_len=int(out),
        len_ratio=len_ratio, len_sigma=sigma,
        concurrency=int(concurrency) if concurrency else None, rate=float("inf") if burst else rate, requests=n,
        output_throughput=measured, tpot_ms=tpot, tpot_stat=tpot_stat, ttft_ms=ttft, ttft_stat=ttft_stat,
        assumptions=assumptions, held_out=row.get("split", "").strip().lower() == "check")


def _prefill_case(row: dict[str, str]) -> ServingCase:
    """A prefill node's input throughput (``54,543 input tok/s per node``): the node the row names, or
    the separate prefill nodes a disaggregated row describes (``prefill on separate 8x H20 TP8 nodes``),
    expert parallel where the row says so, at the per-device prefill batch it states."""
    par = row.get("parallelism", "")
    hw = row.get("hardware", "").split(";")[0]
    sep = re.search(r"prefill on separate\s+(\d+)\s*x\s*(\S+)\s+tp(\d+)", par, re.IGNORECASE)
    nodes_m = re.match(r"\s*(\d+)\s*nodes?\s*x\s*(\d+)\s*x?\s*([^(]*)", hw, re.IGNORECASE)
    if sep:
        nodes, per_node, name, ep = 1, int(sep.group(1)), sep.group(2), False
    elif nodes_m and "prefill" in hw.lower():
        nodes, per_node, name = int(nodes_m.group(1)), int(nodes_m.group(2)), nodes_m.group(3)
        ep = bool(re.search(r"\bep\d+|dp[- ]?attention", par, re.IGNORECASE)) or nodes > 1
    else:
        return _not(row, "an input-throughput figure whose prefill nodes the row does not describe")
    name = re.sub(r"-(\d+)G\b", r" \1GB", name.strip())  # "H20-96G" -> "H20 96GB"
    sheet = sheet_for(name)
    engine, _ = engine_of(row.get("engine_and_version", ""), assume=False)
    model = model_id_for(row.get("model"))
    quant = quant_of(row, model, assume=False)[0] if model else None
    inp = _lead(row.get("input_len", ""))
    if sheet is None or engine is None or not model or not quant or not inp:
        return _not(row, "a prefill-node row whose GPU, engine, model, quant or prompt length is not known")
    m = _PREFILL_NODE.search(row.get("total_tok_s", ""))
    measured = float(m.group(1).replace(",", "")) * (1000 if m.group(2) else 1)
    budget = re.search(r"([0-9][0-9,]*)\s*tokens per device", row.get("concurrency", ""))
    version = re.search(r"v?(\d+\.\d+(?:\.\d+)?)", row.get("engine_and_version", ""))
    machine = Machine(name=f"{nodes} x {per_node}x {sheet.pattern}", source=f"serving row {row.get('id')}",
                      nodes=nodes, gpus=(GpuSpec(model=name, count=per_node, memory_gb=sheet.memory_gb,
                                                 bandwidth_gbs=sheet.bandwidth_gbs, bf16_tflops=sheet.bf16_tflops),))
    random = "random" in row.get("input_len", "").lower()
    return ServingCase(
        id=row["id"], source=row.get("source_group", ""), usable=True, machine=machine, model_id=model, quant=quant,
        engine=engine, engine_version=version.group(1) if version else None, month=_month(row), expert_parallel=ep,
        # SGLang's random prompts average about half the nominal length (see to_case)
        input_len=int(inp * ((1 + RANDOM_LOW) / 2 if random else 1.0)), output_len=1, input_throughput=measured,
        token_budget=int(budget.group(1).replace(",", "")) if budget else None,
        held_out=row.get("split", "").strip().lower() == "check")


def _layout(row: dict[str, str], hw: str, par: str) -> tuple[int, int, str, bool, tuple[int, int] | None, bool] | str:
    """(nodes, GPUs per node, GPU name, expert parallel, (prefill, decode nodes) or None, prefill free),
    or why the row's layout cannot be simulated."""
    nodes_m = _NODES.match(hw) or _NODES_SHORT.match(hw)
    named = _NAMED_NODES.match(hw)  # "Dual-node 8x H100", "two nodes, 8x H100 each"
    count = _COUNT.match(named.group(2) if named else hw)
    if nodes_m:
        nodes, per_node, name = int(nodes_m.group(1)), int(nodes_m.group(2)), nodes_m.group(3)
    elif named and count:
        nodes, per_node, name = _WORD_COUNTS.get(named.group(1).lower(), 1), int(count.group(1)), count.group(2)
    elif count:
        nodes, per_node, name = 1, int(count.group(1)), count.group(2)
        # "16x H100 80GB (2 nodes)", "16x H100 80GB (2x8)": the GPUs spread over nodes
        spread = re.search(r"(\d+)\s*nodes?\b", hw, re.IGNORECASE) or re.search(r"\((\d+)\s*[x×]\s*(\d+)\)", hw)
        if spread and int(spread.group(1)) > 1 and per_node % int(spread.group(1)) == 0:
            nodes = int(spread.group(1))
            per_node //= nodes
    else:
        tp = re.search(r"\btp\s*=?\s*(\d+)", par)
        nodes, per_node, name = 1, int(tp.group(1)) if tp else 1, hw
    name = re.sub(r"\(.*", "", name)
    text = par + " " + row.get("output_len", "").lower() + " " + row.get("confidence", "").lower()
    # data-parallel attention (SGLang --enable-dp-attention, TensorRT-LLM attention DP) is the expert-parallel
    # layout; "TP8 EP8" alone is tensor-parallel attention with the experts split, simulated as tensor parallel
    dp_attention = bool(re.search(r"dp[- ]?attention|attention[- ]?dp|dp\d+ attention|wide[- ]?ep", par))
    # SGLang 0.5.x turns --enable-dp-attention off unless --dp is above 1 (server_args.py
    # _handle_data_parallelism: "if self.dp_size == 1: self.enable_dp_attention = False"): a launch
    # without --dp ran tensor parallel, whatever its label
    dp_attention = dp_attention and "without --dp" not in par
    # several nodes run tensor parallel over all of them where the row's TP (x PP) size spans them
    # (early-2025 two-node recipes: SGLang --tp 16 --nnodes 2; vLLM TP8 x PP2) or it states no layout
    # (the engines' default), expert parallel where it says DP attention, EP or disaggregation, or its
    # tensor-parallel size is one node's
    mp = _model_parallel(par)
    stated_ep = re.search(r"\bep\s*=?\s*\d+|expert[- ]parallel|deepep|pd[- ]disagg|\d+p\d+d|disaggregat", par)
    ep = dp_attention or (nodes > 1 and (mp != nodes * per_node if mp is not None else bool(stated_ep)))
    decode_only = "decode-only" in text or "prefill assumed unlimited" in text
    pd = None
    if re.search(r"pd[- ]disagg|\d+p\d+d|disaggregat", par):
        if decode_only or "decode instance" in hw.lower() or "decode nodes" in hw.lower():
            # only the decode pool is measured: it alone is simulated, its prompts arriving prefilled
            return nodes, per_node, name, True, None, True
        m = re.search(r"(\d+)p(\d+)d", par)
        if nodes > 1 and m and int(m.group(1)) + int(m.group(2)) == nodes:
            pd = (int(m.group(1)), int(m.group(2)))
        else:
            nm = re.search(r"(\d+)\s*prefill nodes?\s*/\s*(\d+)\s*decode", par)
            pd = (int(nm.group(1)), int(nm.group(2))) if nm else None
        if pd is None:
            return "prefill/decode disaggregation without its pool sizes"
    return nodes, per_node, name, ep, pd, decode_only


def _month(row: dict[str, str]) -> tuple[int, int] | None:
    """When the row was measured: its date, else a month in its engine cell (``SGLang (Feb 2025)``)."""
    return parse_month(row.get("date", "")) or parse_month(row.get("engine_and_version", ""))


def _model_parallel(par: str) -> int | None:
    """The GPUs one replica spans by the row's tensor and pipeline parallel sizes (``TP16``, ``TP8 PP2``;
    pipeline stages are simulated as tensor parallel over the same GPUs: the same weights and KV cache
    per GPU), or None if the row gives no tensor-parallel size."""
    tp = re.search(r"\btp\s*=?\s*(\d+)", par)
    pp = re.search(r"\bpp\s*=?\s*(\d+)", par)
    return int(tp.group(1)) * (int(pp.group(1)) if pp else 1) if tp else None


def _sharegpt_means(row: dict[str, str]) -> tuple[float, float, float]:
    """Mean prompt and output tokens of a ShareGPT run: the prompt tokens the row states per request,
    else ShareGPT's usual mean; the output from the row's output and total throughputs, else the usual."""
    stated = re.search(r"([0-9][0-9,]*)\s*in tokens\s*/\s*([0-9][0-9,]*)\s*req", row.get("input_len", ""))
    inp = (float(stated.group(1).replace(",", "")) / float(stated.group(2).replace(",", "")) if stated
           else float(SHAREGPT_INPUT_MEAN))
    out_tps, total_tps = _lead(row.get("output_tok_s_aggregate", ""), k=1000), _lead(row.get("total_tok_s", ""), k=1000)
    out = inp * out_tps / (total_tps - out_tps) if out_tps and total_tps and total_tps > out_tps else SHAREGPT_OUTPUT_MEAN
    return round(inp), round(out), SHAREGPT_SIGMA


def _speculation(row: dict[str, str]) -> tuple[int, float]:
    """(tokens drafted per step, accepted of them on average) of a row with MTP or EAGLE, else (0, 0)."""
    text = " ".join(row.get(k, "") for k in ("engine_and_version", "parallelism", "quant")).lower()
    if not re.search(r"\bmtp\b|eagle", text):
        return 0, 0.0
    steps = re.search(r"(\d+)\s*steps?\b|mtp\s*(\d+)\s*layers?|draft-tokens=(\d+)", text + " " + row.get("quote", "").lower())
    n = 1
    if steps:
        n = int(next(g for g in steps.groups() if g))
        n = n - 1 if steps.group(3) else n  # draft-tokens counts the verified token too
    accept = re.search(r"accept length:?\s*([0-9.]+)", row.get("quote", "").lower())
    if accept:
        return n, float(accept.group(1)) - 1
    return n, sum(MTP_STEP_ACCEPTANCE ** i for i in range(1, n + 1))


def serving_path() -> Path:
    return Path(str(resources.files("harness") / "data" / "calibration" / "serving.csv"))


def load_serving_cases(path: Path | None = None) -> list[ServingCase]:
    p = path or serving_path()
    text = read_bounded_bytes(p, MAX_BYTES, "serving CSV").decode("utf-8", errors="replace")
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or "id" not in rows[0]:
        raise HarnessError(f"{p}: no rows with an id column — is it a serving CSV?")
    return [to_case(r) for r in rows]


def case_record(case: ServingCase) -> dict[str, Any]:
    return {"id": case.id, "source": case.source, "why": case.why_not}
