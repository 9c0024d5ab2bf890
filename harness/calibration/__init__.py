"""Published measurements as cases (``rows``), scoring (``score``), the engine-profile tables
(``profiles``), derived constants (``derive``), the fitter (``fit``) and the fit file it writes
(``fitfile``: ``harness/data/engine_fit.json``, which the engine profiles are built from)."""
