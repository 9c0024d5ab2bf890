"""Each engine's batching, as its server starts by default (and as its build's era did): how many
requests run at once, how many tokens one iteration may carry (chunked prefill's budget), the KV page
size, whether prompts run before decode or share its steps, and the share of GPU memory it takes."""

from __future__ import annotations

from dataclasses import dataclass, replace

from harness.serving.eras import CURRENT, EARLY


@dataclass(frozen=True)
class SchedulerConfig:
    max_running: int  # requests decoding or prefilling at once
    token_budget: int  # tokens per iteration (decode tokens + prefill chunk)
    block_size: int  # KV-cache page size in tokens
    source: str  # where the defaults come from
    # prefill first: a step that can prefill runs prompts only and the running requests' decode waits
    # (SGLang without --enable-mixed-chunk, vLLM's V0 engine without chunked prefill); otherwise each
    # step decodes every running request and fills the rest of the budget with prompt chunks (vLLM V1)
    prefill_first: bool = False
    # share of each GPU's memory the engine takes for weights and KV cache (None: 0.9, vLLM's
    # gpu_memory_utilization, which the step models assume)
    memory_fraction: float | None = None


def scheduler_for(engine: str, gpu_memory_gb: float | None, *, max_running: int | None = None,
                  token_budget: int | None = None, speculative: bool = False, era: str = CURRENT,
                  mla: bool = False, world_size: int = 1, dp_attention: bool = False,
                  recipe_memory: bool = False) -> SchedulerConfig:
    """The engine's default limits on a GPU of ``gpu_memory_gb`` (None: no GPU), for a build of
    ``era`` serving a model with (``mla``) or without multi-head latent attention on ``world_size``
    GPUs per instance (data-parallel attention ranks where ``dp_attention``), with overrides; with
    ``recipe_memory`` the deployment's recipe sets the memory fraction (0.9 assumed) instead of the
    engine's default."""
    cfg = _defaults(engine, gpu_memory_gb or 0.0, era, mla, world_size)
    if engine == "sglang" and era == CURRENT and recipe_memory:
        cfg = replace(cfg, source=cfg.source + "; a multi-node expert-parallel or disaggregated recipe sets its own "
                                               "memory fraction: 0.9 assumed")
    elif engine == "sglang" and era == CURRENT and gpu_memory_gb:
        frac = sglang_memory_fraction(gpu_memory_gb, cfg.token_budget, world_size, dp_attention=dp_attention,
                                      speculative=speculative)
        cfg = replace(cfg, memory_fraction=frac, source=cfg.source + f"; mem_fraction_static {frac} (server_args "
                      "_handle_gpu_memory_settings: reserves for activations, CUDA graphs"
                      + (", DP attention" if dp_attention else "") + (", the draft model" if speculative else "") + ")")
    if speculative and engine == "sglang":
        # sglang/srt/server_args.py: EAGLE and NEXTN (DeepSeek MTP) reset max_running_requests to 48
        # unless it is set, for the CUDA graphs of the draft steps
        cfg = replace(cfg, max_running=48, source=cfg.source + "; speculative decoding: max_running_requests 48 "
                      "(server_args: EAGLE/NEXTN default)")
    return replace(cfg, max_running=max_running or cfg.max_running, token_budget=token_budget or cfg.token_budget,
                   source=cfg.source + ("; overridden on the command line" if max_running or token_budget else ""))


# vLLM's V0 engine (before 0.8) without chunked prefill takes max_num_batched_tokens =
# max(max_model_len, 2048): whole prompts in one step. DeepSeek-V3/R1's max_model_len is its
# config's max_position_embeddings, 163,840.
V0_WHOLE_PROMPTS = 163_840


def _sglang_early_fraction(world_size: int) -> float:
    """SGLang 0.4.x's mem_fraction_static by tensor-parallel size (server_args.py __post_init__:
    0.79 from 16 GPUs, 0.81 from 8, 0.85 from 4, 0.87 from 2, else 0.88)."""
    return 0.79 if world_size >= 16 else 0.81 if world_size >= 8 else 0.85 if world_size >= 4 else \
        0.87 if world_size >= 2 else 0.88


def _sglang_graph_max_bs(mem_mib: float, tp: int) -> int:
    """SGLang 0.5.x's cuda_graph_max_bs by GPU memory and tensor-parallel size (server_args.py
    _handle_gpu_memory_settings: 24/80 below 35 GB, 32/160 below 60, 256/512 below 160 for TP < 4 /
    TP >= 4, else 512)."""
    if mem_mib >= 160 * 1024:
        return 512
    small, large = (24, 80) if mem_mib < 35 * 1024 else (32, 160) if mem_mib < 60 * 1024 else (256, 512)
    return small if tp < 4 else large


def sglang_memory_fraction(mem_gb: float, budget: int, world_size: int, *, dp_attention: bool = False,
                           speculative: bool = False) -> float:
    """SGLang 0.5.x's default mem_fraction_static: the GPU's memory less what it reserves for
    activations (1.5 MB per token of the chunked-prefill budget), CUDA graphs (2 MB per unit of
    cuda_graph_max_bs; with DP attention 3 MB more per rank and unit, 4.5 above 300), large tensor
    parallelism (1 GB per 8 GPUs) and a draft model (2 GB), at least 10 GB on a GPU over 60 GB
    (server_args.py _handle_gpu_memory_settings)."""
    mem = mem_gb * 1024  # MiB
    graphs = _sglang_graph_max_bs(mem, world_size)
    reserved = 512 + max(budget, 2048) * 1.5 + graphs * 2 + world_size / 8 * 1024
    if dp_attention:
        reserved += graphs * world_size * 3 + (graphs * world_size * 1.5 if graphs > 300 else 0)
    if mem > 60 * 1024:
        reserved = max(reserved, 10 * 1024)
    reserved += 2 * 1024 if speculative else 0
    return max(0.1, round((mem - reserved) / mem, 3))


def _defaults(engine: str, mem: float, era: str, mla: bool, world_size: int) -> SchedulerConfig:
    if engine == "vllm" and era == EARLY:
        if mla:  # vllm/config.py (PR 12642, v0.7.1): "MLA is enabled; forcing chunked prefill ... disabled"
            return SchedulerConfig(256, V0_WHOLE_PROMPTS, 16,
                                   "vLLM V0 (before 0.8) with an MLA model: chunked prefill forced off (vllm/config.py, "
                                   "PR 12642), so waiting prompts are prefilled whole, before any decode "
                                   "(_schedule_default); max_num_seqs 256, block_size 16", prefill_first=True)
        return SchedulerConfig(256, 2048, 16, "vLLM V0 (before 0.8): chunked prefill on for the OpenAI server with "
                                              "max_num_batched_tokens 2048, max_num_seqs 256, block_size 16")
    if engine == "vllm":
        big = mem >= 70  # vllm/engine/arg_utils.py EngineArgs.get_batch_defaults (OpenAI server; A100 excepted)
        return SchedulerConfig(1024 if big else 256, 8192 if big else 2048, 16,
                               f"vLLM's OpenAI-server defaults for a {'≥' if big else '<'} 70 GiB GPU: max_num_seqs "
                               f"{1024 if big else 256}, max_num_batched_tokens {8192 if big else 2048}, block_size 16 "
                               "(vllm/engine/arg_utils.py get_batch_defaults)")
    if engine == "sglang" and era == EARLY:
        # 0.4.x server_args: chunked_prefill_size 2048 below 25 GB, else 8192; mem_fraction_static by TP
        budget = 2048 if mem < 25 else 8192
        frac = _sglang_early_fraction(world_size)
        return SchedulerConfig(4096, budget, 1,
                               f"SGLang 0.4.x: chunked_prefill_size {budget}, mem_fraction_static {frac} for "
                               f"{world_size} GPUs (server_args), running requests limited by the KV pool, page "
                               "size 1; prefill batches run before decode (scheduler.get_next_batch_to_run, no mixed "
                               "chunk)", prefill_first=True, memory_fraction=frac)
    if engine == "sglang":
        # sglang/srt/server_args.py: chunked_prefill_size 2048 below 35 GB (A10, L40, 4090), 8192 below
        # 160 GB (H100, H200, A100, H20), 16384 above (B200, MI300); page_size 1
        # managers/scheduler.py get_next_batch_to_run: "Run prefill first if possible" — a new prefill
        # batch runs alone and the running batch decodes only when no prompt can be admitted
        # (mixing needs --enable-mixed-chunk, off by default)
        budget = 2048 if mem < 35 else 8192 if mem < 160 else 16384
        return SchedulerConfig(4096, budget, 1,
                               f"SGLang's chunked_prefill_size {budget} for a {mem:.0f} GB GPU (server_args memory "
                               "tiers), running requests limited by the KV pool, page size 1; prefill batches run "
                               "before decode (scheduler.get_next_batch_to_run, no mixed chunk)", prefill_first=True)
    if engine == "tensorrt-llm":
        # trtllm-serve's defaults are BuildConfig's: max_batch_size 2048, max_num_tokens 8192
        # (tensorrt_llm/commands/serve.py click options); KvCacheConfig tokens_per_block 32
        return SchedulerConfig(2048, 8192, 32, "trtllm-serve defaults: max_batch_size 2048, max_num_tokens 8192, "
                                               "tokens_per_block 32 (BuildConfig, KvCacheConfig)")
    # engines without paged KV blocks: the cache is counted token by token (page size 1)
    if engine in ("ktransformers", "xingyun"):
        return SchedulerConfig(4, 4096, 1, "KTransformers balance_serve max_batch_size 4 (its example "
                                           "configuration; a placeholder for other deployments)")
    if engine == "mlx":
        # mlx_lm/server.py: --decode-concurrency 32, --prompt-concurrency 8, --prefill-step-size 2048; its
        # BatchGenerator prefills the waiting prompts before the running batch decodes again
        return SchedulerConfig(32, 2048, 1, "mlx_lm.server's continuous batching: --decode-concurrency 32, "
                                            "--prefill-step-size 2048; waiting prompts are prefilled before the "
                                            "running batch decodes again (BatchGenerator)", prefill_first=True)
    if engine in ("llama.cpp", "ik_llama.cpp"):
        return SchedulerConfig(1, 2048, 1, "llama-server with one slot (--parallel 1) and its 2048-token batch "
                                           "(--batch-size); more slots split the context")
    return SchedulerConfig(4096, 16384, 1, "no engine limits (the ideal engine)")


def per_rank(cfg: SchedulerConfig, engine: str, ranks: int, *, explicit: bool) -> SchedulerConfig:
    """One data-parallel attention rank's limits. SGLang divides its chunked_prefill_size among the DP
    ranks ("DP attention is enabled. The chunked prefill size is adjusted to ...", server_args.py),
    and a max_running_requests that is set (on the command line, or by speculative decoding's
    default) too (sglang/srt/model_executor/model_runner.py: ``server_args.max_running_requests //
    dp_size``); unset, each rank is limited by its own KV pool (``max_total_num_tokens // 2``).
    vLLM's data-parallel engines each keep max_num_seqs and max_num_batched_tokens."""
    if engine != "sglang" or ranks <= 1:
        return cfg
    cfg = replace(cfg, token_budget=max(1, cfg.token_budget // ranks),
                  source=cfg.source + f"; chunked prefill size divided among {ranks} DP-attention ranks")
    if not explicit:
        return cfg
    return replace(cfg, max_running=max(1, cfg.max_running // ranks),
                   source=cfg.source + f"; running requests divided among {ranks} DP-attention ranks")
