"""Flow YAML: parse, validate (every problem, with its line), normalise and save.

parse_flow() turns Kestra-compatible YAML into a plain JSON definition or raises
FlowDefinitionError listing each problem as "file:line: task 'id': what".
load_flow() saves a definition as a new FlowRevision only when it changed.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, transaction

from flows.flow_checks import FlowChecker, Problem, size_problem
from flows.models import Flow, FlowRevision
from flows.tasks import get_task_type


class FlowDefinitionError(Exception):
    """A flow file is invalid; `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class LoadResult:
    flow: Flow
    revision: FlowRevision
    created_revision: bool


def parse_flow(source: str, filename: str = "<string>") -> dict:
    """Validate flow YAML and return its normalised, JSON-safe definition."""
    checker = FlowChecker(filename)
    data = checker.load(source)
    definition = checker.check_flow(data) if data is not None else None
    if checker.problems or definition is None:
        # Stable sort: problems on one line keep the order they were found in.
        raise FlowDefinitionError(sorted(checker.problems, key=lambda p: p.line or 0))
    return definition


def load_flow(tenant, source: str, filename: str = "<string>") -> LoadResult:
    """Validate and save a flow; a new revision only when its definition changed."""
    return save_flow(tenant, source, parse_flow(source, filename))


def checksum_of(definition: dict) -> str:
    canonical = json.dumps(
        definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def save_flow(tenant, source: str, definition: dict) -> LoadResult:
    """Save a parsed definition; the Flow row lock orders concurrent loaders."""
    checksum = checksum_of(definition)
    flow = _locked_flow(tenant, definition)
    latest = flow.revisions.filter(revision=flow.latest_revision).first()
    if latest is not None and latest.checksum == checksum:
        return LoadResult(flow, latest, False)
    revision = FlowRevision.objects.create(
        flow=flow,
        revision=flow.latest_revision + 1,
        source=source,
        definition=definition,
        checksum=checksum,
    )
    flow.latest_revision = revision.revision
    flow.description = definition["description"]
    flow.cancelled_at = None  # a cancelled flow is used again once it is changed
    flow.save(
        update_fields=["latest_revision", "description", "cancelled_at", "updated_at"]
    )
    return LoadResult(flow, revision, True)


def _locked_flow(tenant, definition: dict) -> Flow:
    lookup = {
        "tenant": tenant,
        "namespace": definition["namespace"],
        "flow_id": definition["id"],
    }
    flow = Flow.objects.select_for_update().filter(**lookup).first()
    if flow is not None:
        return flow
    try:
        with transaction.atomic():  # savepoint: another loader may create it first
            return Flow.objects.create(**lookup, description=definition["description"])
    except IntegrityError:
        return Flow.objects.select_for_update().get(**lookup)


@dataclass
class ParsedFile:
    path: Path
    source: str
    definition: dict | None = None
    error: FlowDefinitionError | None = None


def find_flow_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders as their *.yaml and *.yml files, recursively, sorted."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix in (".yaml", ".yml") and p.is_file()
                )
            )
        else:
            found.append(path)
    unique = {p.resolve(): p for p in reversed(found)}  # keep the first mention
    return [p for p in found if unique[p.resolve()] is p]


def parse_paths(paths: Iterable[str | Path]) -> list[ParsedFile]:
    """Read and validate every file; also refuse one flow defined in two files."""
    parsed = [_parse_file(path) for path in find_flow_files(paths)]
    first_file: dict[tuple[str, str], Path] = {}
    for item in parsed:
        if item.definition is None:
            continue
        key = (item.definition["namespace"], item.definition["id"])
        if key in first_file:
            message = f"flow {'.'.join(key)} is also defined in {first_file[key]}"
            item.error = FlowDefinitionError(
                [Problem(str(item.path), 1, None, message)]
            )
            item.definition = None
        else:
            first_file[key] = item.path
    return parsed


def _parse_file(path: Path) -> ParsedFile:
    try:
        # Judged before reading: a huge file is never read into memory.
        message = size_problem(path.stat().st_size)
        source = "" if message else path.read_text(encoding="utf-8")
    except FileNotFoundError:
        message = "no such file or directory"
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text ({exc.reason} at byte {exc.start})"
    except OSError as exc:
        message = f"cannot read the file ({exc.strerror})"
    if not message:
        try:
            return ParsedFile(path, source, definition=parse_flow(source, str(path)))
        except FlowDefinitionError as exc:
            return ParsedFile(path, source, error=exc)
    problem = Problem(str(path), None, None, message)
    return ParsedFile(path, "", error=FlowDefinitionError([problem]))


def load_paths(
    tenant, paths: list[str | Path]
) -> list[tuple[Path, LoadResult | FlowDefinitionError]]:
    """Parse every file first, then save the valid ones; one outcome per file."""
    outcomes: list[tuple[Path, LoadResult | FlowDefinitionError]] = []
    for item in parse_paths(paths):
        if item.error is not None:
            outcomes.append((item.path, item.error))
        else:
            outcomes.append(
                (item.path, save_flow(tenant, item.source, item.definition))
            )
    return outcomes


def iter_tasks(tasks: list[dict]) -> Iterator[dict]:
    """Every task of a (normalised) task tree, depth first, in order."""
    for task in tasks:
        yield task
        task_type = get_task_type(task.get("type", ""))
        if task_type is None:
            continue
        for name, prop in task_type.properties.items():
            value = task.get(name)
            if prop.kind == "task" and isinstance(value, dict):
                yield from iter_tasks([value])
            elif prop.kind == "tasks" and isinstance(value, list):
                yield from iter_tasks(value)
            elif prop.kind == "cases" and isinstance(value, dict):
                for tasks in value.values():
                    yield from iter_tasks(tasks)
