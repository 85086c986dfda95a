"""Help without a queue (P3): the FAQ support maintains, channels with their real response
times, and callbacks at a time the customer picks."""
