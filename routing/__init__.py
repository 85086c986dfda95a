"""Pure route planning: no Flask, no database, no I/O outside ``routing.io``.

Build a :class:`~routing.model.Problem`, call :func:`~routing.solver.solve`, get a
:class:`~routing.plan.Plan`; check any routes with :func:`~routing.feasibility.check`.
"""
