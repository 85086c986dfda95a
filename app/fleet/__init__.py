"""Depots, vehicles, couriers and their shifts."""
