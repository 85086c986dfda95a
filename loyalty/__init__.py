"""Loyalty points: an append-only ledger, exact under retries and concurrency (L1-L3)."""
