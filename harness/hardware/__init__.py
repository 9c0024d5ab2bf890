"""Machines and hardware facts: ``Machine``/``GpuSpec``, the GPU vendor sheet, the CPU catalog,
memory channels per platform and FLOPs per cycle. Pure data with sources; no I/O."""
