"""Planning runs: the day's orders and fleet as a routing problem, stored as versioned plans."""
