"""Hardware probes: each returns frozen dataclasses and never raises for a missing sensor."""
