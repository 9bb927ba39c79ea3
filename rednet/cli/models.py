"""`rednet models`: list the shipped and user models; rename, delete or export your own."""

from __future__ import annotations

import argparse

from rednet.cli.console import say
from rednet.cli.exits import EXIT_OK
from rednet.tasks import TASK_NAMES

NAME = "models"


def register(sub) -> None:
    p = sub.add_parser(NAME, help="list the shipped and user models; rename, delete or export your own")
    p.add_argument("--task", choices=TASK_NAMES)
    manage = p.add_mutually_exclusive_group()
    manage.add_argument("--rename", nargs=2, metavar=("OLD", "NEW"), help="rename one of your models")
    manage.add_argument("--delete", metavar="NAME", help="delete one of your models (weights, card, checkpoint)")
    manage.add_argument("--export", nargs=2, metavar=("NAME", "DIR"), help="copy a model and its card to DIR")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rednet.models.registry import list_models
    from rednet.models.user_models import delete_user_model, export_model, rename_user_model

    # a ModelError (no such model, a name taken) is a usage error: `main` prints it, exit status 2
    if args.rename:
        say(f"renamed to {rename_user_model(*args.rename)}")
        return EXIT_OK
    if args.delete:
        say("deleted " + ", ".join(p.name for p in delete_user_model(args.delete)))
        return EXIT_OK
    if args.export:
        say("exported " + ", ".join(str(p) for p in export_model(*args.export)))
        return EXIT_OK
    models = list_models(args.task)
    if not models:
        say("no models found")
        return EXIT_OK
    say(f"{'name':<28} {'task':<8} {'source':<8} {'size':>8}  summary")
    for m in models:
        say(f"{m.name:<28} {m.task:<8} {m.source:<8} {m.size_bytes / 2**20:7.1f}M  {m.summary}")
    return EXIT_OK
