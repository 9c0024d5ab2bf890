"""What to buy for N users: the search over machines, box counts, layouts, engines and quants."""
