"""Each engine's batching limits, as its server starts by default: how many requests run at once,
how many tokens one iteration may carry (chunked prefill's budget), and the KV page size."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SchedulerConfig:
    max_running: int  # requests decoding or prefilling at once
    token_budget: int  # tokens per iteration (decode tokens + prefill chunk)
    block_size: int  # KV-cache page size in tokens
    source: str  # where the defaults come from


def scheduler_for(engine: str, gpu_memory_gb: float | None, *, max_running: int | None = None,
                  token_budget: int | None = None, speculative: bool = False) -> SchedulerConfig:
    """The engine's default limits on a GPU of ``gpu_memory_gb`` (None: no GPU), with overrides."""
    cfg = _defaults(engine, gpu_memory_gb or 0.0)
    if speculative and engine == "sglang":
        # sglang/srt/server_args.py: EAGLE and NEXTN (DeepSeek MTP) reset max_running_requests to 48
        # unless it is set, for the CUDA graphs of the draft steps
        cfg = SchedulerConfig(48, cfg.token_budget, cfg.block_size, cfg.source + "; speculative decoding: "
                              "max_running_requests 48 (server_args: EAGLE/NEXTN default)")
    return SchedulerConfig(max_running or cfg.max_running, token_budget or cfg.token_budget, cfg.block_size,
                           cfg.source + ("; overridden on the command line" if max_running or token_budget else ""))


def _defaults(engine: str, mem: float) -> SchedulerConfig:
    if engine == "vllm":
        big = mem >= 70  # vllm/engine/arg_utils.py EngineArgs.get_batch_defaults (OpenAI server; A100 excepted)
        return SchedulerConfig(1024 if big else 256, 8192 if big else 2048, 16,
                               f"vLLM's OpenAI-server defaults for a {'≥' if big else '<'} 70 GiB GPU: max_num_seqs "
                               f"{1024 if big else 256}, max_num_batched_tokens {8192 if big else 2048}, block_size 16 "
                               "(vllm/engine/arg_utils.py get_batch_defaults)")
    if engine == "sglang":
        # sglang/srt/server_args.py: chunked_prefill_size 2048 below 35 GB (A10, L40, 4090), 8192 below
        # 160 GB (H100, H200, A100, H20), 16384 above (B200, MI300); page_size 1
        budget = 2048 if mem < 35 else 8192 if mem < 160 else 16384
        return SchedulerConfig(4096, budget, 1,
                               f"SGLang's chunked_prefill_size {budget} for a {mem:.0f} GB GPU (server_args memory "
                               "tiers), running requests limited by the KV pool, page size 1")
    if engine == "tensorrt-llm":
        # trtllm-serve's defaults are BuildConfig's: max_batch_size 2048, max_num_tokens 8192
        # (tensorrt_llm/commands/serve.py click options); KvCacheConfig tokens_per_block 32
        return SchedulerConfig(2048, 8192, 32, "trtllm-serve defaults: max_batch_size 2048, max_num_tokens 8192, "
                                               "tokens_per_block 32 (BuildConfig, KvCacheConfig)")
    # engines without paged KV blocks: the cache is counted token by token (page size 1)
    if engine in ("ktransformers", "xingyun"):
        return SchedulerConfig(4, 4096, 1, "KTransformers balance_serve max_batch_size 4 (its example "
                                           "configuration; a placeholder for other deployments)")
    if engine in ("llama.cpp", "ik_llama.cpp"):
        return SchedulerConfig(1, 2048, 1, "llama-server with one slot (--parallel 1) and its 2048-token batch "
                                           "(--batch-size); more slots split the context")
    return SchedulerConfig(4096, 16384, 1, "no engine limits (the ideal engine)")


def per_rank(cfg: SchedulerConfig, engine: str, ranks: int, *, explicit: bool) -> SchedulerConfig:
    """One data-parallel attention rank's limits. SGLang divides a max_running_requests that is set
    (on the command line, or by speculative decoding's default) among its DP ranks
    (sglang/srt/model_executor/model_runner.py: ``server_args.max_running_requests // dp_size``);
    unset, each rank is limited by its own KV pool (``max_total_num_tokens // 2``). vLLM's
    data-parallel engines each keep max_num_seqs."""
    if engine != "sglang" or ranks <= 1 or not explicit:
        return cfg
    return SchedulerConfig(max(1, cfg.max_running // ranks), cfg.token_budget, cfg.block_size,
                           cfg.source + f"; divided among {ranks} DP-attention ranks")
