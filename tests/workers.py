"""Worker processes for the durability and concurrency tests: real processes writing through the services.

    python -m tests.workers URL ASSESSMENT_ID ACTOR_JSON SAVES [--delay SECONDS]

saves SAVES answers to the assessment, one at a time, and prints ``ACK item code version`` after each save has
returned (so it is committed). The answers cycle through the questionnaire; the code of save n is
CODES[n % 4]. Any failure prints ``ERROR …`` and exits 1.
"""

import json
import sys
import time

from assessment.accounts import Actor
from assessment.db import Store
from assessment.services import Services, questionnaire_of

CODES = ("full", "mostly", "partly", "none")


def code_of(n: int) -> str:
    return CODES[n % len(CODES)]


def main() -> int:
    url, assessment_id, actor_json, saves = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    delay = float(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[5] == "--delay" else 0.0
    actor = Actor(**json.loads(actor_json))
    services = Services(Store(url, migrate=False))
    a = services.get_assessment(actor, assessment_id).assessment
    items = [item.id for item in questionnaire_of(a).items_for(a.profile)]
    version = a.version
    try:
        for n in range(saves):
            item = items[n % len(items)]
            version = services.save_answer(actor, assessment_id, item, code_of(n), expected_version=version)
            print(f"ACK {item} {code_of(n)} {version}", flush=True)
            if delay:
                time.sleep(delay)
    except Exception as exc:  # noqa: BLE001 – reported to the test, which fails on it
        print(f"ERROR {type(exc).__name__}: {exc}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
