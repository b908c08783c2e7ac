"""The SQLite state database's schema and its migrations.

``PRAGMA user_version`` holds the schema version; ``MIGRATIONS[n]`` brings a
database from version ``n`` to ``n + 1``. All times are seconds since the
epoch (UTC)::

    runs(id PK AUTOINCREMENT, job, context_id, host, pid, status, started_at,
         finished_at, exit_code, message)   -- one open run per (job, context_id)
    locks(job PK, context_id, host, pid, process_identity, owner_started_at,
          acquired_at, expires_at, fence, boot_id, pid_namespace, machine_id)
    lock_fences(job PK, fence)              -- the last fence given per job
    health_results(id PK, recorded_at, report_time, job, status, duration_s,
                   checks JSON, host)
    alerts(id PK, key, at, sent, window_s, forgotten)  -- one row per decision
"""

from __future__ import annotations

import sqlite3

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate"]

SCHEMA_VERSION = 2

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            job TEXT NOT NULL,
            context_id TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN
                ('running', 'success', 'failed', 'cancelled', 'abandoned')),
            started_at REAL NOT NULL,
            finished_at REAL,
            exit_code INTEGER,
            message TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX IF NOT EXISTS runs_job_started ON runs (job, started_at)",
        "CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at)",
        "CREATE INDEX IF NOT EXISTS runs_context ON runs (context_id, status)",
        """CREATE UNIQUE INDEX IF NOT EXISTS runs_one_open
            ON runs (job, context_id) WHERE status = 'running'""",
        """CREATE TABLE IF NOT EXISTS locks (
            job TEXT PRIMARY KEY,
            context_id TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            process_identity TEXT,
            owner_started_at REAL NOT NULL,
            acquired_at REAL NOT NULL,
            expires_at REAL
        )""",
        """CREATE TABLE IF NOT EXISTS health_results (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            recorded_at REAL NOT NULL,
            report_time REAL NOT NULL,
            job TEXT,
            status TEXT NOT NULL,
            duration_s REAL NOT NULL,
            checks TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS health_recorded ON health_results (recorded_at)",
        """CREATE TABLE IF NOT EXISTS alerts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL,
            at REAL NOT NULL,
            sent INTEGER NOT NULL,
            window_s REAL NOT NULL,
            forgotten INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX IF NOT EXISTS alerts_key ON alerts (key, sent, at)",
        "CREATE INDEX IF NOT EXISTS alerts_at ON alerts (at)",
    ),
    # 2: fencing numbers, the holder's machine instance, the host of a health report.
    (
        "ALTER TABLE locks ADD COLUMN fence INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE locks ADD COLUMN boot_id TEXT",
        "ALTER TABLE locks ADD COLUMN pid_namespace TEXT",
        "ALTER TABLE locks ADD COLUMN machine_id TEXT",
        """CREATE TABLE IF NOT EXISTS lock_fences (
            job TEXT PRIMARY KEY,
            fence INTEGER NOT NULL
        )""",
        "INSERT OR IGNORE INTO lock_fences (job, fence) SELECT job, 0 FROM locks",
        "ALTER TABLE health_results ADD COLUMN host TEXT",
    ),
)
assert len(MIGRATIONS) == SCHEMA_VERSION


def migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring a database at ``version`` to :data:`SCHEMA_VERSION`, in the caller's transaction."""
    for migration in MIGRATIONS[version:]:
        for statement in migration:
            conn.execute(statement)
    if version < SCHEMA_VERSION:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
