"""Reading and writing standard instance and solution files (the only I/O in routing)."""
