"""Simulated days run through the product's own services (``roundtrip simulate``)."""
