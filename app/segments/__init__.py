"""Recognised regulars (L4): segments (loyal, careful, demanding) computed from a customer's
order and feedback history, the offers they bring, and demanding customers' detailed feedback
routed to the people who can fix its cause."""
