"""Products and the lots (batches) they arrive in."""
