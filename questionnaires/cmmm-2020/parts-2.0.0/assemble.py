"""Assembles the draft of CMMM 2.0.0 from its parts: _header.yaml (everything but the items) and one file of
items per subdomain, in the order of the header's subdomains. Items are numbered again within each cell
(subdomain × level) in the order written; DROPPED names items left out (duplicates across parts).

    python questionnaires/cmmm-2020/parts-2.0.0/assemble.py OUT.yaml

Scaffolding while 2.0.0 is a draft: once 2.0.0.yaml is published beside 1.0.0.yaml this folder goes."""

import sys
from collections import Counter
from pathlib import Path

import yaml

PARTS = Path(__file__).resolve().parent
DROPPED = {"PU.2.3": "incoming inspection recorded per batch: asked in PO (PO.2.3)"}


def assemble() -> str:
    header = (PARTS / "_header.yaml").read_text(encoding="utf-8")
    order = [sd["code"] for sd in yaml.safe_load(header)["subdomains"]]
    items, numbers = [], Counter()
    for code in order:
        part = yaml.safe_load((PARTS / f"{code}.yaml").read_text(encoding="utf-8"))["items"]
        for item in sorted((i for i in part if i["id"] not in DROPPED), key=lambda i: i["level"]):
            numbers[(code, item["level"])] += 1
            items.append({**item, "id": f"{code}.{item['level']}.{numbers[(code, item['level'])]}"})
    body = yaml.safe_dump({"items": items}, allow_unicode=True, sort_keys=False, width=118)
    note = "# Requirement items: <subdomain>.<level>.<n>. applies_to: both (default), discrete or process.\n"
    return f"{header}\n{note}{body}"


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(assemble(), encoding="utf-8")
