"""The PostgreSQL store's tables, all in one schema of ours (``state_schema``).

Nothing is created in ``public`` and no table of Meltano's (``runs``,
``state``, ``plugin_settings``, ``alembic_version``) is touched: every name
below is qualified with our schema. ``schema_version`` is our own version
table; :data:`MIGRATIONS` ``[n]`` brings the schema from version ``n`` to
``n + 1`` and runs under a transaction-scoped advisory lock, so processes that
start together migrate once. Times are ``timestamptz`` set by the server.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "MIGRATION_LOCK_KEY", "SCHEMA_VERSION", "statements"]

SCHEMA_VERSION = 1

# pg_advisory_xact_lock key of migrations: "gruponos" in ASCII, as a bigint.
MIGRATION_LOCK_KEY = int.from_bytes(b"gruponos", "big") & 0x7FFF_FFFF_FFFF_FFFF

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS {s}.schema_version (
            version integer NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )""",
        """CREATE TABLE IF NOT EXISTS {s}.runs (
            id bigserial PRIMARY KEY,
            job text NOT NULL,
            context_id text NOT NULL,
            host text NOT NULL,
            pid integer NOT NULL,
            status text NOT NULL CHECK (status IN
                ('running', 'success', 'failed', 'cancelled', 'abandoned')),
            started_at timestamptz NOT NULL,
            finished_at timestamptz,
            exit_code integer,
            message text NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX IF NOT EXISTS runs_job_started ON {s}.runs (job, started_at)",
        "CREATE INDEX IF NOT EXISTS runs_started ON {s}.runs (started_at)",
        "CREATE INDEX IF NOT EXISTS runs_context ON {s}.runs (context_id, status)",
        """CREATE UNIQUE INDEX IF NOT EXISTS runs_one_open
            ON {s}.runs (job, context_id) WHERE status = 'running'""",
        """CREATE TABLE IF NOT EXISTS {s}.locks (
            job text PRIMARY KEY,
            context_id text NOT NULL,
            host text NOT NULL,
            pid integer NOT NULL,
            process_identity text,
            owner_started_at timestamptz NOT NULL,
            acquired_at timestamptz NOT NULL,
            expires_at timestamptz,
            fence bigint NOT NULL,
            boot_id text,
            pid_namespace text,
            machine_id text
        )""",
        """CREATE TABLE IF NOT EXISTS {s}.lock_fences (
            job text PRIMARY KEY,
            fence bigint NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS {s}.health_results (
            id bigserial PRIMARY KEY,
            recorded_at timestamptz NOT NULL,
            report_time timestamptz NOT NULL,
            job text,
            host text,
            status text NOT NULL,
            duration_s double precision NOT NULL,
            checks jsonb NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS health_recorded ON {s}.health_results (recorded_at)",
        """CREATE TABLE IF NOT EXISTS {s}.alert_state (
            key text PRIMARY KEY,
            last_sent timestamptz,
            window_s double precision NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE IF NOT EXISTS {s}.alerts (
            id bigserial PRIMARY KEY,
            key text NOT NULL,
            at timestamptz NOT NULL,
            sent boolean NOT NULL,
            window_s double precision NOT NULL,
            forgotten boolean NOT NULL DEFAULT false,
            host text
        )""",
        "CREATE INDEX IF NOT EXISTS alerts_key ON {s}.alerts (key, sent, at)",
        "CREATE INDEX IF NOT EXISTS alerts_at ON {s}.alerts (at)",
    ),
)
assert len(MIGRATIONS) == SCHEMA_VERSION


def statements(version: int, schema: str) -> list[str]:
    """The statements that bring ``schema`` from ``version`` to :data:`SCHEMA_VERSION`.

    ``schema`` must already be a checked name; it is quoted here.
    """
    quoted = f'"{schema}"'
    return [sql.format(s=quoted) for migration in MIGRATIONS[version:] for sql in migration]
