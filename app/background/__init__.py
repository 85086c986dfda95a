"""Background work: what is due when (the schedule), and the queue that runs it.

The domain asks for work through ``queue.Queue``; the embedded mode runs it on threads of
the one process, production on Procrastinate's PostgreSQL queue and separate workers.
"""
