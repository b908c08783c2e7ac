"""Rules for jobs and their blocks, following Meltano's block parser.

``meltano run JOB`` splits each task on single spaces, reads each block as
``name[:command]``, looks the name up across plugin types in Meltano's order
(then mapping names), refuses a block that is also a job name, and needs
every extractor to be followed by its mappings and a loader. A task with a
double space therefore holds an empty block, and a job named in a task is
never expanded (only the command line expands job names).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gruponos_ext.project.build import did_you_mean
from gruponos_ext.project.model import Block, BlockTarget, Job, Task, plugin_label
from gruponos_ext.project.rules import brackets
from gruponos_ext.project.rules.context import RuleContext

__all__ = ["ResolvedBlock", "check"]

# First words of a shell command line that are not plugin names: a task starting
# with one is a command pasted where blocks belong.
_SHELL_WORDS = frozenset(
    {"meltano", "python", "python3", "bash", "sh", "echo", "cd", "make", "uv", "pip", "env"}
)
_SHELL_CHARACTERS = frozenset("|&;<>$`\"'()")


@dataclass(frozen=True)
class ResolvedBlock:
    """A block and what it runs: a plugin (kind = its type) or a mapping."""

    block: Block
    target: BlockTarget

    @property
    def kind(self) -> str:
        """``extractors``, ``loaders``, ``mappers`` (for a mapping), ``utilities``..."""
        return "mappers" if self.target.mapping is not None else self.target.plugin.type

    @property
    def text(self) -> str:
        return self.block.text


def check(context: RuleContext) -> None:
    """Every job rule: names, blocks, the extractor/loader order, run blocks, guards."""
    model = context.model
    _duplicates(context)
    ambiguous = _names_shared_with_plugins(context)
    roles_by_job: dict[str, list[brackets.RunBlock | None]] = {}
    for job in model.jobs:
        resolved = _resolve_job(context, job, ambiguous)
        if resolved is None:
            continue
        roles = brackets.classify(context, job, resolved)
        roles_by_job.setdefault(job.name, roles)
        if _check_sequence(context, resolved):
            brackets.check_job(context, job, resolved, roles)
    brackets.check_guards(context, roles_by_job)


def _duplicates(context: RuleContext) -> None:
    first: dict[str, Job] = {}
    for job in context.model.jobs:
        earlier = first.setdefault(job.name, job)
        if earlier is job or "meltano.yml" not in (earlier.where.file, job.where.file):
            continue
        context.add(
            "JOB_DUPLICATE",
            job.where,
            f"job name '{job.name}' is already used ({earlier.where.file}: "
            f"{earlier.where.key_path})",
        )


def _names_shared_with_plugins(context: RuleContext) -> set[str]:
    """Jobs named like a plugin; those whose name some task uses as a block are refused."""
    model = context.model
    used = {block.text for _, block in model.iter_blocks()}
    ambiguous: set[str] = set()
    for job in model.jobs:
        if job.name in ambiguous or model.resolve_block(job.name) is None:
            continue
        if job.name in used:
            ambiguous.add(job.name)
            context.add(
                "JOB_NAME_AMBIGUOUS",
                job.where.at("name"),
                f"job '{job.name}' has the name of a plugin: meltano run refuses the ambiguous "
                "reference",
            )
        else:
            context.add(
                "JOB_NAME_SHADOWS_PLUGIN",
                job.where.at("name"),
                f"job '{job.name}' has the name of a plugin: `meltano run {job.name}` runs the "
                "job, and a block of that name would be refused as ambiguous",
            )
    return ambiguous


def _resolve_job(context: RuleContext, job: Job, ambiguous: set[str]) -> list[ResolvedBlock] | None:
    """Each block with its target; None when any block does not resolve (reported)."""
    resolved: list[ResolvedBlock] = []
    ok = True
    for task in job.tasks:
        if not _task_ok(context, task):
            ok = False
            continue
        previous: ResolvedBlock | None = None
        for block in task.blocks:
            if block.text in ambiguous:
                ok = False  # reported once, at the job's name
                continue
            found = _resolve_block(context, block, previous)
            if found is None:
                ok = False
            else:
                resolved.append(found)
            previous = found
    return resolved if ok else None


def _task_ok(context: RuleContext, task: Task) -> bool:
    """One finding for a task that is not a list of blocks at all."""
    if any(not block.text for block in task.blocks):
        context.add(
            "BLOCK_EMPTY",
            task.where,
            "empty block: a double, leading or trailing space (meltano splits tasks on "
            "single spaces)",
        )
        return False
    first = task.blocks[0]
    unresolved = [b for b in task.blocks if context.model.resolve_block(b.name) is None]
    looks_like_shell = (
        first.name in _SHELL_WORDS and context.model.resolve_block(first.name) is None
    ) or any(b.text.startswith("-") or _SHELL_CHARACTERS & set(b.text) for b in unresolved)
    if unresolved and looks_like_shell:
        context.add(
            "BLOCK_SHELL_COMMAND",
            task.where,
            f"task '{task.text}' is a shell command, not blocks: a task lists plugins and "
            "commands to run in order, such as 'tap-x target-y' or 'dbt:run'",
        )
        return False
    return True


def _resolve_block(
    context: RuleContext, block: Block, previous: ResolvedBlock | None
) -> ResolvedBlock | None:
    model = context.model
    where, text = block.where, block.text
    if text.count(":") > 1:
        context.add("BLOCK_INVALID_NAME", where, f"block '{text}' has more than one ':'")
        return None
    target = model.resolve_block(block.name)
    if target is None:
        if model.job(text) is not None:
            context.add(
                "BLOCK_IS_JOB",
                where,
                f"'{text}' is a job: a job cannot be a block of another job "
                "(meltano run expands job names only on its command line)",
            )
        else:
            context.add("BLOCK_UNKNOWN_PLUGIN", where, _unknown_plugin(context, block, previous))
        return None
    plugin = target.plugin
    if target.also_defined_by:
        others = ", ".join(p.label for p in target.also_defined_by)
        context.add(
            "BLOCK_AMBIGUOUS_MAPPING",
            where,
            f"mapping '{block.name}' is defined by {plugin.label} and {others}: Meltano "
            "refuses the ambiguous block",
        )
        return None
    if plugin.type == "mappers" and target.mapping is None:
        hint = f" such as '{plugin.mappings[0]}'" if plugin.mappings else ""
        context.add(
            "BLOCK_MAPPER_NOT_MAPPING",
            where,
            f"'{block.name}' is a mapper plugin: a block names one of its mappings{hint}",
        )
        return None
    found = ResolvedBlock(block, target)
    if block.command is None:
        if text.endswith(":"):
            context.add(
                "BLOCK_EMPTY_COMMAND",
                where,
                f"block '{text}' has an empty command: Meltano runs {plugin.label} without one",
            )
        elif context.is_own(plugin):
            context.add(
                "BLOCK_NO_COMMAND", where, f"block '{text}' runs the extension without a command"
            )
        return found
    if found.kind in ("extractors", "loaders", "mappers"):
        context.add(
            "BLOCK_COMMAND_IGNORED",
            where,
            f"'{text}': meltano run ignores the command of {plugin.label} "
            "(it runs as part of an extract-load set)",
        )
        return found
    if model.command(plugin, block.command) is None and model.is_defined_offline(plugin):
        context.add("BLOCK_UNKNOWN_COMMAND", where, _unknown_command(context, block, target))
        return None
    return found


def _unknown_plugin(context: RuleContext, block: Block, previous: ResolvedBlock | None) -> str:
    model = context.model
    name = block.name
    if (
        previous is not None
        and block.command is None
        and model.command(previous.target.plugin, name) is not None
    ):
        hint = f" (did you mean '{previous.block.name}:{name}'?)"
    else:
        candidates = [p.name for p in model.plugins]
        candidates += [m for p in model.plugins for m in p.mappings]
        hint = did_you_mean(name, candidates)
    return f"unknown plugin '{name}'{hint}"


def _unknown_command(context: RuleContext, block: Block, target: BlockTarget) -> str:
    model = context.model
    plugin, command = target.plugin, block.command or ""
    message = (
        f"unknown command '{command}' of {plugin.label}"
        f"{did_you_mean(command, model.command_names(plugin))}"
    )
    reachable_elsewhere = [
        other
        for other in model.plugins_named(plugin.name)
        if other is not plugin and model.command(other, command) is not None
    ]
    if reachable_elsewhere:
        other = reachable_elsewhere[0]
        message += (
            f": {other.label} defines it, but a block '{plugin.name}' is "
            f"{plugin_label(plugin.type, plugin.name)} (Meltano looks names up by plugin type "
            "in a fixed order: extractors, loaders, transforms, orchestrators, transformers, "
            "files, utilities, mappers); rename one of them"
        )
    return message


# What a loader or a mapping outside an extractor's set is told.
_STRAY_BLOCK = {
    "loaders": "loader '{}' has no extractor before it",
    "mappers": "mapping '{}' is not between an extractor and a loader",
}


def _check_sequence(context: RuleContext, blocks: Sequence[ResolvedBlock]) -> bool:
    """Extractor, mappings, loader adjacent, as meltano's block parser requires."""
    ok = True
    index = 0
    while index < len(blocks):
        block = blocks[index]
        if block.kind == "extractors":
            nxt = index + 1
            while nxt < len(blocks) and blocks[nxt].kind == "mappers":
                nxt += 1
            if nxt < len(blocks) and blocks[nxt].kind == "loaders":
                index = nxt + 1
                continue
            ok = False
            if nxt < len(blocks):
                where, problem = (
                    blocks[nxt].block.where,
                    f"'{blocks[nxt].text}' comes between extractor '{block.text}' and a "
                    "loader: meltano run needs the extractor, its mappings and the "
                    "loader next to each other",
                )
            else:
                where, problem = (
                    block.block.where,
                    f"extractor '{block.text}' has no loader after it",
                )
            context.add("BLOCK_SEQUENCE", where, problem)
            # Meltano stops at the first broken set: skip to after this set's loader.
            loaders = [i for i in range(nxt, len(blocks)) if blocks[i].kind == "loaders"]
            index = loaders[0] + 1 if loaders else max(nxt, index + 1)
            continue
        stray = _STRAY_BLOCK.get(block.kind)
        if stray is not None:
            ok = False
            context.add("BLOCK_SEQUENCE", block.block.where, stray.format(block.text))
        index += 1
    return ok
