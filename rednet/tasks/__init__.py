"""The restoration tasks, one module each, and the one registry that everything else reads.

`TASKS` maps each task's name to its `Task` (see `rednet.tasks.base`), in the order the CLI and the
GUI list them. Code outside this package asks a task (`get_task(name).output_size(...)`) instead of
branching on its name; the name itself is only ever typed by a user or stored in a model file.
"""

from __future__ import annotations

from rednet.errors import UsageError
from rednet.tasks.base import Degraded, MaskOption, Option, Task
from rednet.tasks.denoise import DENOISE
from rednet.tasks.inpaint import INPAINT
from rednet.tasks.jpeg import JPEG
from rednet.tasks.sr import SR

TASKS: dict[str, Task] = {t.name: t for t in (DENOISE, SR, JPEG, INPAINT)}
TASK_NAMES: tuple[str, ...] = tuple(TASKS)


def get_task(name: str | Task) -> Task:
    """The task called `name` (a Task passes through); a UsageError about --task otherwise."""
    if isinstance(name, Task):
        return name
    task = TASKS.get(name)
    if task is None:
        raise UsageError(f"unknown task {name!r}; choose one of {', '.join(TASK_NAMES)}", option="task")
    return task


def suggested_task(photo) -> tuple[Task, str] | None:
    """The task an opened photo most plainly needs, with the reason (a low-quality JPEG: JPEG
    clean-up), or None when nothing about the file says."""
    for task in TASKS.values():
        reason = task.suits(photo)
        if reason:
            return task, reason
    return None


__all__ = ["TASKS", "TASK_NAMES", "Degraded", "MaskOption", "Option", "Task", "get_task", "suggested_task"]
