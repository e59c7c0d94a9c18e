"""``python -m assessment …``: the command-line contract (see README, "Command line").

Bad input exits 1 with located messages on stderr; nothing is printed for the good sets of a bad batch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict

from assessment.answers import AnswerSet, read_answer_file, resolve
from assessment.errors import AssessmentError
from assessment.plan import improvement_plan
from assessment.questionnaire import Questionnaire, by_id, load, load_published, published
from assessment.scoring import BatchScorer, Result


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except AssessmentError as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head`: not an error of ours
        sys.stderr.close()
        return 0
    except Exception as exc:  # the user gets one line, never a traceback; ASSESSMENT_DEBUG=1 shows it
        if os.environ.get("ASSESSMENT_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (set ASSESSMENT_DEBUG=1 for details)", file=sys.stderr)
        return 2


DB_HELP = "database URL (default: ASSESSMENT_DB_URL or data/assessment.db)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m assessment",
                                     description="Smart-factory maturity assessment (CMMM, GB/T 39116/39117-2020).")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    _questionnaire_commands(commands)
    _workbook_commands(commands)
    _bureau_commands(commands)
    _store_commands(commands)
    return parser


def _questionnaire_commands(commands) -> None:
    listing = commands.add_parser("questionnaires", help="list every version of the questionnaires that ship with "
                                                         "the tool")
    listing.set_defaults(run=_questionnaires)

    questionnaire = commands.add_parser("questionnaire", help="inspect one questionnaire")
    show = questionnaire.add_subparsers(required=True, metavar="ACTION").add_parser("show", help="print it")
    show.add_argument("id")
    show.add_argument("--version", metavar="V", help="this version (default: the newest)")
    show.add_argument("--json", action="store_true", help="the parsed questionnaire as JSON")
    show.set_defaults(run=_show)

    validate = commands.add_parser("validate", help="check a questionnaire file; list every problem")
    validate.add_argument("path")
    validate.set_defaults(run=_validate)

    scoring = commands.add_parser("score", help="score answer sets (.json: one set, .jsonl: one per line, "
                                                ".xlsx: a filled offline template)")
    scoring.add_argument("files", nargs="+", metavar="FILE")
    scoring.add_argument("--json", action="store_true", help="one JSON object per answer set per line")
    scoring.add_argument("--allow-incomplete", action="store_true",
                         help="score incomplete sets as provisional, unanswered counted as not met")
    scoring.set_defaults(run=_score)


def _workbook_commands(commands) -> None:
    blank = commands.add_parser("template", help="write the offline interview template of a questionnaire")
    blank.add_argument("questionnaire", metavar="QUESTIONNAIRE_ID")
    blank.add_argument("--version", metavar="V", help="this version (default: the newest)")
    blank.add_argument("--out", required=True, metavar="FILE")
    blank.add_argument("--lang", choices=("zh", "en"), default="zh")
    blank.add_argument("--profile", choices=("discrete", "process"), default="discrete")
    blank.set_defaults(run=_template)

    filled = commands.add_parser("import", help="import filled offline templates (.xlsx, or a .zip of them)")
    filled.add_argument("files", nargs="+", metavar="FILE")
    filled.add_argument("--db", metavar="URL", help=DB_HELP)
    filled.add_argument("--overwrite", action="store_true",
                        help="import a template made from an assessment even where its answers were changed since "
                             "the template was made (the audit log keeps every overwritten answer); without it such "
                             "a file is refused, naming those requirements")
    filled.set_defaults(run=_import)

    one = commands.add_parser("report", help="write the diagnostic report workbook of one assessment")
    source = one.add_mutually_exclusive_group(required=True)
    source.add_argument("answers", nargs="?", metavar="ANSWERS", help="an answer file (.json, or a filled .xlsx)")
    source.add_argument("--assessment", type=int, metavar="ID", help="an assessment in the database")
    one.add_argument("--db", metavar="URL", help=DB_HELP)
    one.add_argument("--out", required=True, metavar="FILE")
    one.add_argument("--lang", choices=("zh", "en"), default="zh")
    one.set_defaults(run=_report)

    many = commands.add_parser("reports", help="write one diagnostic report per assessment, on every core")
    many.add_argument("--db", metavar="URL", help=DB_HELP)
    many.add_argument("--out", required=True, metavar="DIR")
    many.add_argument("--lang", choices=("zh", "en"), default="zh")
    many.add_argument("--status", help="only assessments in this status (e.g. approved)")
    many.add_argument("--district", help="only enterprises of this district code")
    many.add_argument("--industry", help="only enterprises of this GB/T 4754 division (e.g. C34)")
    many.add_argument("--limit", type=_at_least(1), help="at most this many reports")
    many.add_argument("--workers", type=_at_least(1), default=os.cpu_count(), help="processes (default: every core)")
    many.set_defaults(run=_reports)


def _filters(parser) -> None:
    parser.add_argument("--district", help="only enterprises of this district code (e.g. gusu)")
    parser.add_argument("--industry", help="only enterprises of this GB/T 4754 division (e.g. C34)")
    parser.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="only diagnoses created from this day")
    parser.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help="only diagnoses created up to this day")


def _at_least(least: int):
    """An option's type: a whole number of at least ``least`` (argparse names the option in its refusal)."""

    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{value} is less than {least}")
        return value

    return whole


def _day(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-31") from None


def _bureau_commands(commands) -> None:
    summary = commands.add_parser("bureau-report", help="write the bureau summary workbook")
    summary.add_argument("--out", required=True, metavar="FILE")
    summary.add_argument("--db", metavar="URL", help=DB_HELP)
    summary.add_argument("--lang", choices=("zh", "en"), default="zh")
    _filters(summary)
    summary.set_defaults(run=_bureau_report)

    export = commands.add_parser("export", help="export the raw answers in long format (CSV or Parquet)")
    export.add_argument("--out", required=True, metavar="FILE", help="a .csv or .parquet file")
    export.add_argument("--db", metavar="URL", help=DB_HELP)
    _filters(export)
    export.set_defaults(run=_export)


def _store_commands(commands) -> None:
    demo = commands.add_parser("demo", help="fill a database with demo organisations, users and diagnoses")
    demo.add_argument("--enterprises", type=_at_least(1), required=True, metavar="N")
    demo.add_argument("--db", metavar="URL", help=DB_HELP)
    demo.add_argument("--seed", type=_at_least(0), default=2026)
    demo.add_argument("--force", action="store_true", help="add to a database that already holds data")
    demo.set_defaults(run=_demo)

    migrate = commands.add_parser("migrate", help="bring the database schema to the newest revision and say which "
                                                  "it is (once per release in a shared deployment)")
    migrate.add_argument("--db", metavar="URL", help=DB_HELP)
    migrate.set_defaults(run=_migrate)

    grant = commands.add_parser("grant-app-role", help="PostgreSQL: give the app a role of its own that can read "
                                                       "and write but never rewrite the audit log (run as the "
                                                       "tables' owner, after every migrate)")
    grant.add_argument("--db", metavar="URL", help=DB_HELP + "; connect as the role that owns the tables")
    grant.add_argument("--role", required=True, metavar="NAME", help="the app's role, created when missing")
    grant.set_defaults(run=_grant_app_role)


# ---------------------------------------------------------------------------------------------------------


def _questionnaires(args) -> int:
    for version in published():
        try:
            q = load_published(version)
        except AssessmentError as exc:
            # A misplaced file is valid on its own (validate finds nothing): its one problem is said here.
            summary = [f"{version.path}: invalid ({len(exc.messages)} problems; run validate)"]
            print("\n".join(exc.messages if exc.code == "questionnaire_misplaced" else summary), file=sys.stderr)
            continue
        print(f"{q.id}\t{q.version}\t{q.title.zh} / {q.title.en}")
    return 0


def _show(args) -> int:
    q = by_id(args.id, args.version)
    if args.json:
        print(json.dumps(questionnaire_json(q), ensure_ascii=False, indent=2))
        return 0
    print(f"{q.id} {q.version} — {q.title.zh}\n{q.title.en}\nsha256 {q.sha256}")
    for element in q.elements:
        print(f"{element.code} {element.name.zh} {element.name.en}")
        for domain in (d for d in q.domains if d.element == element.code):
            print(f"  {domain.code} {domain.name.zh} {domain.name.en}")
            for sd in (s for s in q.subdomains if s.domain == domain.code):
                levels = sorted({item.level for item in q.items if item.subdomain == sd.code})
                count = sum(item.subdomain == sd.code for item in q.items)
                print(f"    {sd.code} {sd.name.zh} {sd.name.en}: {count} items, levels {levels}")
    print(f"{len(q.items)} items")
    return 0


def questionnaire_json(q: Questionnaire) -> dict:
    def weights(level: str, code: str) -> dict[str, float]:
        return {name: getattr(profile, level).weights[code] for name, profile in q.weight_profiles.items()}

    return {
        "id": q.id,
        "version": q.version,
        "sha256": q.sha256,
        "title": q.title.model_dump(),
        "scale": {option.code: option.value for option in q.scale},
        "scale_labels": {option.code: option.label.model_dump() for option in q.scale},
        "levels": [level.model_dump() for level in q.levels],
        "elements": [{"code": e.code, "name": e.name.model_dump(), "parent": None,
                      "weights": weights("elements", e.code)} for e in q.elements],
        "domains": [{"code": d.code, "name": d.name.model_dump(), "parent": d.element,
                     "weights": weights("domains", d.code)} for d in q.domains],
        "subdomains": [{"code": s.code, "name": s.name.model_dump(), "parent": s.domain,
                        "weights": weights("subdomains", s.code)} for s in q.subdomains],
        "weights_official": q.weights_official,
        "weight_sources": {name: {level: getattr(profile, level).source
                                  for level in ("elements", "domains", "subdomains")}
                           for name, profile in q.weight_profiles.items()},
        "items": [{"id": i.id, "subdomain": i.subdomain, "level": i.level, "text": i.text.model_dump(),
                   "guidance": i.guidance.model_dump(), "applies_to": i.applies_to} for i in q.items],
        "rule": {"threshold": q.rule.threshold,
                 "bands": [band.model_dump() for band in q.rule.bands],
                 "below_level_1": q.rule.below_level_1.model_dump()},
    }


def _validate(args) -> int:
    q = load(args.path)
    print(f"{args.path}: valid — {q.id} {q.version}, {len(q.items)} items, sha256 {q.sha256}")
    return 0


def _score(args) -> int:
    sets: list[AnswerSet] = []
    problems: list[str] = []
    for file in args.files:
        try:
            sets.extend(_read_answers(file))
        except AssessmentError as exc:
            problems.extend(exc.messages)
    checked: list[tuple[AnswerSet, Questionnaire]] = []
    for answer_set in sets:
        try:
            checked.append((answer_set, resolve(answer_set, allow_incomplete=args.allow_incomplete)))
        except AssessmentError as exc:
            problems.extend(exc.messages)
    if problems:
        raise AssessmentError(problems)

    # Score every group of sets sharing a questionnaire version and profile in one batch.
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for i, (answer_set, q) in enumerate(checked):
        groups[q.id, q.version, answer_set.profile].append(i)
    results: list[Result | None] = [None] * len(checked)
    for (_, _, profile), members in groups.items():
        q = checked[members[0]][1]
        scorer = BatchScorer(q, profile)
        batch = scorer.score_answers([checked[i][0].answers for i in members],
                                     allow_incomplete=args.allow_incomplete)
        for row, i in enumerate(members):
            results[i] = batch.result(row)

    for (answer_set, q), result in zip(checked, results, strict=True):
        plan = improvement_plan(q, answer_set.answers, answer_set.profile, result)
        if args.json:
            print(json.dumps(result_json(result, plan.item_ids), ensure_ascii=False))
        else:
            print(_summary(answer_set, q, result, plan.item_ids))
    return 0


def _read_answers(file: str) -> list[AnswerSet]:
    """Answer sets from a .json / .jsonl file or a filled offline template (.xlsx)."""
    if not file.lower().endswith(".xlsx"):
        return read_answer_file(file)
    from pathlib import Path

    from reports.template import TemplateError, read_template

    path = Path(file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"{path}: cannot be read ({exc.strerror})") from None
    filled = read_template(data, str(path))
    return [AnswerSet(questionnaire=filled.questionnaire_id, version=filled.version, sha256=filled.sha256,
                      profile=filled.profile, answers={item: a["code"] for item, a in filled.answers.items()},
                      enterprise=filled.enterprise, source=str(path))]


def _template(args) -> int:
    from pathlib import Path

    from reports.template import build_template

    q = by_id(args.questionnaire, args.version)
    Path(args.out).write_bytes(build_template(q, lang=args.lang, profile=args.profile))
    print(args.out)
    return 0


def _import(args) -> int:
    """Each file on its own: a file with any problem imports nothing and the others still import. All files are
    read first, and the database is opened only for one that can be imported: a refused file is told at once."""
    from pathlib import Path

    from reports.template import TemplateError, read_uploads

    outcomes = []
    for file in args.files:
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            outcomes.append((str(path), TemplateError(f"{path}: cannot be read ({exc.strerror})")))
            continue
        outcomes += read_uploads([(str(path), data)])
    services, failed = None, 0
    for name, outcome in outcomes:
        if isinstance(outcome, AssessmentError):
            problems = outcome.messages
        else:
            if services is None:
                from assessment.db import Store
                from assessment.services import Services

                services = Services(Store(args.db))
            problems = _import_one(services, name, outcome, overwrite=args.overwrite)
        failed += bool(problems)
        for message in problems:
            print(message, file=sys.stderr)
    return 1 if failed else 0


def _import_one(services, name: str, filled, *, overwrite: bool) -> list[str]:
    """Store one checked template as the operator; returns its problems (none when it was imported)."""
    from assessment.accounts import Actor

    try:
        assessment_id, new = services.import_filled(Actor.operator(), **filled.import_arguments(),
                                                    overwrite=overwrite)
    except AssessmentError as exc:
        return [f"{name}: {message}" for message in exc.messages]
    print(f"{name}: imported {len(filled.answers)} answers into assessment {assessment_id}"
          + (" (new enterprise)" if new else ""))
    return []


def _report(args) -> int:
    from reports import report

    if args.assessment is not None:
        data = _report_input(args.db, args.assessment)
    else:
        answer_sets = _read_answers(args.answers)
        if len(answer_sets) != 1:
            raise AssessmentError(f"{args.answers}: a report is made from one answer set, the file holds "
                                  f"{len(answer_sets)}")
        q = resolve(answer_sets[0], allow_incomplete=True)
        data = report.from_answer_set(answer_sets[0], q)
    report.write(data, args.out, lang=args.lang)
    print(args.out)
    return 0


def _report_input(url: str | None, assessment_id: int, store=None):
    from assessment.accounts import Actor
    from assessment.analytics import peer_stats
    from assessment.db import Store
    from assessment.services import Services, questionnaire_of
    from reports import report

    services = Services(store or Store(url))
    view = services.get_assessment(Actor.operator(), assessment_id)
    peers = peer_stats(services.store, view.enterprise.id, assessment_id)
    follow_up = services.previous_round(Actor.operator(), assessment_id)
    return report.from_view(view, questionnaire_of(view.assessment), peers, follow_up)


def _reports(args) -> int:
    from concurrent.futures import ProcessPoolExecutor
    from pathlib import Path

    from assessment.accounts import Actor
    from assessment.db import Store
    from assessment.services import Services

    _check_selection(args)
    store = Store(args.db)
    rows = Services(store).list_assessments(Actor.operator(), status=args.status, district=args.district,
                                            industry=args.industry)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(store.url, a.id, str(out / f"{a.id:06d}-{e.credit_code or e.id}.xlsx"), args.lang)
            for a, e in rows[:args.limit]]
    with ProcessPoolExecutor(max_workers=max(1, args.workers or 1)) as pool:
        for done, path in enumerate(pool.map(_write_one_report, jobs, chunksize=8), start=1):
            if done % 100 == 0 or done == len(jobs):
                print(f"{done} of {len(jobs)} reports", file=sys.stderr)
            del path
    print(f"{len(jobs)} reports in {out}")
    return 0


def _check_selection(args) -> None:
    """Refuse an unknown district, industry or status, naming the valid ones (unchecked, each selected nothing
    and the command said "0 reports" as if all was well)."""
    from assessment.analytics import Filters
    from assessment.workflow import STATUSES

    problems = []
    try:
        Filters(district=args.district, industry=args.industry)
    except AssessmentError as exc:
        problems.extend(exc.messages)
    statuses = list(dict.fromkeys(status for kind in STATUSES.values() for status in kind))
    if args.status is not None and args.status not in statuses:
        problems.append(f"status: unknown status {args.status!r} (one of {', '.join(statuses)})")
    if problems:
        raise AssessmentError(problems)


_worker_store = None


def _write_one_report(job: tuple[str, int, str, str]) -> str:
    """In a worker process: one report, with the process's own database connection."""
    global _worker_store  # noqa: PLW0603 – one connection pool per worker process
    from assessment.db import Store
    from reports import report

    url, assessment_id, path, lang = job
    if _worker_store is None or _worker_store.url != url:
        _worker_store = Store(url, migrate=False)
    report.write(_report_input(url, assessment_id, _worker_store), path, lang=lang)
    return path


def _selection(args):
    from assessment.analytics import Filters

    return Filters(district=args.district, industry=args.industry, since=args.since, until=args.until)


def _bureau_report(args) -> int:
    from assessment.accounts import Actor
    from assessment.db import Store
    from reports.bureau import write_bureau_workbook

    write_bureau_workbook(Store(args.db), Actor.operator(), _selection(args), args.out, lang=args.lang)
    print(args.out)
    return 0


def _export(args) -> int:
    from assessment.accounts import Actor
    from assessment.db import Store
    from reports.export import write_answers_csv, write_answers_parquet

    suffix = args.out.lower().rsplit(".", 1)[-1]
    if suffix not in ("csv", "parquet"):
        raise AssessmentError(f"--out: {args.out} must end in .csv or .parquet")
    write = write_answers_csv if suffix == "csv" else write_answers_parquet
    rows = write(Store(args.db), Actor.operator(), _selection(args), args.out)
    print(f"{rows} answers in {args.out}")
    return 0


def _demo(args) -> int:
    from assessment.db import Store
    from assessment.demo import generate

    store = Store(args.db)
    accounts = generate(store, args.enterprises, seed=args.seed, force=args.force,
                        progress=lambda line: print(line, file=sys.stderr))
    print(f"demo data in {store.url}")
    print(f"password of every demo account: {accounts.password}")
    print(f"bureau admin: {accounts.admin}    bureau analyst: {accounts.analyst}")
    print(f"providers: {', '.join(accounts.providers)}")
    print(f"enterprises: {', '.join(accounts.enterprises)}")
    total = sum(accounts.levels) or 1
    print("levels of the scored diagnoses: " + "  ".join(
        f"L{level} {count / total:.0%}" for level, count in enumerate(accounts.levels)))
    return 0


def _migrate(args) -> int:
    """The one place a shared deployment's schema changes: replicas run with ASSESSMENT_AUTO_MIGRATE=0."""
    from sqlalchemy.exc import OperationalError

    from assessment.db import newest_revision

    store = _owner_store(args.db)
    where = store.engine.url.render_as_string(hide_password=True)
    try:
        before = store.migrate()
    except OperationalError as exc:  # the server is down, the database missing, the password wrong …
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise AssessmentError(f"{where}: cannot reach the database: {reason}") from None
    finally:
        store.dispose()
    newest = newest_revision()
    if before == newest:
        print(f"{where}: already at the newest revision {newest}")
    else:
        print(f"{where}: migrated from {before or 'an empty database'} to revision {newest}")
    return 0


def _owner_store(db: str | None):
    """The store of --db as it is, for the commands that change the schema or its grants."""
    from sqlalchemy.exc import ArgumentError

    from assessment.db import Store, default_url

    url = db or default_url()
    try:
        return Store(url, migrate=False)
    except (ArgumentError, ImportError):  # not a URL, or a database this tool has no driver for
        raise AssessmentError(f"--db: {url!r} is not a database URL this tool can use (sqlite:///data/assessment.db "
                              f"or postgresql+psycopg://user@host:5432/assessment)") from None


def _grant_app_role(args) -> int:
    store = _owner_store(args.db)
    try:
        store.grant_app_role(args.role)
    finally:
        store.dispose()
    where = store.engine.url.render_as_string(hide_password=True)
    print(f"{where}: the role {args.role} may read and write the app's tables and only add to the audit log; "
          f"start the app with ASSESSMENT_DB_URL naming {args.role} and ASSESSMENT_AUTO_MIGRATE=0")
    return 0


def result_json(result: Result, plan: list[str]) -> dict:
    return {
        "questionnaire": result.questionnaire,
        "version": result.version,
        "sha256": result.sha256,
        "profile": result.profile,
        "score": result.score,
        "level": result.level,
        "level_name": result.level_name.model_dump(),
        "level_scores": result.level_scores,
        "met": result.met,
        "completeness": {"answered": result.completeness.answered, "applicable": result.completeness.applicable,
                         "ratio": result.completeness.answered / max(result.completeness.applicable, 1)},
        "provisional": result.provisional,
        "weights_official": result.weights_official,
        "subdomains": {code: {"maturity": sub.maturity, "levels": {str(n): v for n, v in sub.levels.items()}}
                       for code, sub in result.subdomains.items()},
        "plan": plan,
    }


def _summary(answer_set: AnswerSet, q: Questionnaire, result: Result, plan: list[str]) -> str:
    name = result.level_name
    lines = [
        f"{answer_set.source}: {q.id} {q.version}, {answer_set.profile}",
        f"  level {result.level} {name.zh} / {name.en}, S = {result.score:.3f}"
        + ("  (provisional: unanswered items counted as not met)" if result.provisional else ""),
        "  " + "  ".join(f"X{n} {x:.3f} {'met' if m else 'not met'}"
                         for n, (x, m) in enumerate(zip(result.level_scores, result.met, strict=True), start=1)),
        f"  answered {result.completeness.answered} of {result.completeness.applicable}",
    ]
    if plan:
        shown = ", ".join(plan[:12]) + (f" … ({len(plan)} in all)" if len(plan) > 12 else "")
        lines.append(f"  to reach level {result.level + 1}, raise to {q.scale[0].code}: {shown}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
