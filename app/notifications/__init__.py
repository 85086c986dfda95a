"""Notifications (Q4): an outbox written with the event that causes it, sent afterwards."""
