"""Pure statistics over stored results: comparing two sides (Mann–Whitney U, thresholds), history
series and change points. No store, no rendering."""
