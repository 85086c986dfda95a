"""Customers and their delivery addresses."""
