"""What bench/resume_vs_floor.py works out besides wrk's figures: statements per
resume, the ratios to the floor, and the table it prints."""

BODY = '{"decision": "Approved", "comment": "looks good"}'


def count_queries(execution_id, key: str, redis: bool = False) -> int:
    """Statements one resume sends (a 202), counted at the connection."""
    from unittest import mock

    from django.db import connection
    from django.test import Client
    from django_q.conf import Conf

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    statements = []

    def spy(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    # With Redis the wake-up is pushed after the commit: no statement, and no
    # server needed to count them.
    patches = (
        [mock.patch.object(Conf, "ORM", None), mock.patch("django_q.tasks.async_task")]
        if redis
        else []
    )
    for patch in patches:
        patch.start()
    try:
        with connection.execute_wrapper(spy):
            response = client.post(
                f"/api/executions/{execution_id}/resume",
                BODY,
                content_type="application/json",
            )
    finally:
        for patch in patches:
            patch.stop()
    if response.status_code != 202:
        raise SystemExit(f"Signoff answered {response.status_code}: {response.content}")
    return len(statements)


def ratios(cells: list[dict]) -> dict:
    by = {(c["variant"], c["conc"]): c for c in cells}
    found = {}
    for conc in (1, 8):
        ours = by.get(("Signoff", conc))
        for floor in ("A", "B"):
            theirs = by.get((floor, conc))
            if ours and theirs:
                found[f"Signoff/{floor} c={conc}"] = {
                    "rps": round(ours["rps"] / theirs["rps"], 2),
                    "p99": round(ours["p99_ms"] / theirs["p99_ms"], 2),
                }
    return found


def print_table(results: dict) -> None:
    print(
        f"\n{results['count']} resumes a cell, {results['workers']} gunicorn workers, "
        f"{results['machine']['cpus']} CPUs, {results['machine']['date']}\n"
    )
    print(
        "| endpoint | clients | req/s | p50 ms | p95 ms | p99 ms | 202s | queries "
        "| load |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    names = {"A": "floor A (plain view)", "B": "floor B (DRF)"}
    for c in results["cells"]:
        print(
            f"| {names.get(c['variant'], c['variant'])} | {c['conc']} | {c['rps']:.0f} "
            f"| {c['p50_ms']:.1f} | {c['p95_ms']:.1f} | {c['p99_ms']:.1f} "
            f"| {c['s202']}/{c['responses']} | {c['queries']} | {c['load_1min']:.1f} |"
        )
    print("\n| ratio | req/s | p99 |\n|---|---:|---:|")
    for name, ratio in results["ratios"].items():
        print(f"| {name} | {ratio['rps']:.2f} | {ratio['p99']:.2f} |")
