"""What each CLI command does, one module per family of commands.

A handler takes the command's parsed options as typed keyword arguments,
writes its result to stdout (logs go to stderr), and returns the exit
status: 0 passed, 1 failed, or a guarded run's own code. What stops it
early is raised as a :class:`~gruponos_ext.core.errors.GruponosError`,
which carries its exit status; :mod:`gruponos_ext.extension.runtime` turns
it into one line. Handlers are imported inside the click commands, so
``describe`` and ``--help`` load none of this.

* :mod:`.session`: settings, the booted container, the profile line, JSON out;
* :mod:`.validate`: ``validate``;
* :mod:`.health`: ``health``;
* :mod:`.runs`: ``initialize``, ``preflight``, ``dispose``, ``guard``;
* :mod:`.history`: ``history``;
* :mod:`.introspect`: ``services``, ``graph``, ``config``;
* :mod:`.report_files`: where ``--json-file``/``--prom-file``/``metrics_dir`` reports go.
"""
