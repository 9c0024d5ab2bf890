"""Many users on one machine: an iteration-level serving simulator on the step-time model.

``workload`` makes the requests (closed loop: C clients; open loop: Poisson arrivals),
``scheduler`` holds each engine's batching limits, ``simulate`` runs continuous batching with
chunked prefill over a paged KV cache (preempting and recomputing when it is full, as vLLM does),
and ``metrics`` turns the trace into vLLM ``benchmark_serving`` figures. Pure: the step-time model
is passed in; no clock, no I/O.
"""
