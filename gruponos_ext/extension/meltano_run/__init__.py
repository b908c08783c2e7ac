"""Reading the ``meltano run`` a command block belongs to (Meltano-specific, so in ``extension``).

* :mod:`.argv` -- Meltano command lines, parsed as Meltano's click parser does;
* :mod:`.processes` -- the Meltano processes above this one (``/proc``);
* :mod:`.attribution` -- which lifecycle block is running, and for which lock (jobs and
  this utility's commands come from the project model, :mod:`gruponos_ext.project`);
* :mod:`.block` -- :func:`identify_block`: a block's job and run owner;
* :mod:`.meltano_bin` -- the Meltano a guard runs.
"""
