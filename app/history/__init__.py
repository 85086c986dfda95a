"""One history per customer (Q3): every event the product records, newest first."""
