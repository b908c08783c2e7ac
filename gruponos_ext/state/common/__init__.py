"""What both state stores do the same way, written once.

Each module here is one family of :class:`~gruponos_ext.state.protocol.StateStore`
methods (runs, locks, health, alerts, housekeeping) on top of
:class:`~gruponos_ext.state.common.base.StoreBase`: validation, the flow of
each operation, the statements both SQL dialects understand, rows to records,
and the log lines. What must differ between SQLite and PostgreSQL (how a
store races other processes, reads its clock, returns what it wrote) is a
hook that ``state.sqlite`` and ``state.postgres`` implement.
"""
