"""``initialize``: adopt the run blocks in a project's own jobs.

* :mod:`.plan` -- per job, the exact change: bare preflight/dispose blocks
  around its tasks, a guard command for cron/Airflow;
* :mod:`.write` -- ``initialize --write``: apply the plan to ``meltano.yml``
  and its ``include_paths`` files with a round-trip YAML editor that keeps
  comments, order and formatting; idempotent.
"""
