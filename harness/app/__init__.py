"""Orchestration: the only layer that touches probes, store and report together — ``run``,
``check``, ``validate``, the Python entry points (``api``), resolving a RUN argument (``sources``)
and loading history from the store."""
