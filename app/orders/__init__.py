"""Orders, their items, delivery windows and cut-offs."""
