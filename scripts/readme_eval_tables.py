#!/usr/bin/env python3
"""Put each shipped model card's evaluation table into README.md, between "#### denoise" and the
"† peer figures" note after them (run after `rednet eval --update-cards`).

    python scripts/readme_eval_tables.py
"""

from __future__ import annotations

import json
from pathlib import Path

from rednet.paths import shipped_weights_dir
from rednet.tasks import TASK_NAMES

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "#### denoise", "† peer figures"


def tables() -> str:
    parts = []
    for task in TASK_NAMES:
        card = json.loads((shipped_weights_dir() / f"{task}.card.json").read_text(encoding="utf-8"))
        lines = card["evaluation"]["table"].strip().splitlines()
        table = "\n".join(ln for ln in lines if not ln.startswith(END)).strip()  # one note, at the end
        parts.append(table.replace("### ", "#### ", 1))  # one level below the README's "### Evaluation"
    return "\n\n".join(parts) + "\n\n"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(START), text.rindex(END)
    README.write_text(text[:start] + tables() + text[end:], encoding="utf-8")
    print(f"README.md: evaluation tables of {', '.join(TASK_NAMES)} from the model cards")


if __name__ == "__main__":
    main()
