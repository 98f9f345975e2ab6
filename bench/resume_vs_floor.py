"""Signoff's resume API against the Django floor, in one run, on PostgreSQL.

    apt-get install -y wrk          # the load generator (Debian's wrk 4.1)
    pip install -e ".[bench]"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/resume_vs_floor.py [--quick] [--json out.json]

The floor is ../shared/bench-floor/ (`--floor-dir`): its throwaway project is copied
to a temporary folder and served as it is, variant A (a plain Django view) and B
(a DRF APIView), each doing a resume's writes. Signoff serves
`POST /api/executions/{id}/resume` on approval-screen suspensions. All three run
under gunicorn sync workers (this venv's gunicorn 23.0.0, as the floor pins) with
persistent connections, and are driven by the same wrk and the floor's
`resume.lua`: each request answers a distinct waiting execution with
`{"decision": "Approved", "comment": "looks good"}`. Cells: c=1 for A, B and
Signoff (ORM broker), then c=8 for those and for Signoff with the Redis broker (a
private redis-server on a free port); interleaved so that a neighbour's load falls
on every endpoint alike, each on a fresh server after a warm-up, and the load
average after each is printed with it. No worker runs: continuations stay queued,
as the floor measures only the resume's own writes.

Queries per request are every statement Django sends for one resume (a
connection.execute_wrapper around the test client); psycopg's BEGIN and COMMIT,
and the health check's SELECT 1 where CONN_HEALTH_CHECKS is on, come on top.

Databases: the floor's and Signoff's are made fresh on DATABASE_URL's server and
dropped at the end, on Ctrl-C too. Figures are comparable within one run only.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from common import ROOT
from resume_figures import count_queries, print_table, ratios

FLOOR_KEYS = {  # the floor's seed command makes these (floor/management/commands)
    "A": ("/api", "floor-api-token-a-0123456789abcdef"),
    "B": ("/drf", "0123456789abcdef0123456789abcdef01234567"),
}
FLOW = """
id: resume_vs_floor
namespace: bench.floor
tasks:
  - id: wait
    type: Pause
    screen: approval
  - id: after
    type: Return
    format: done
"""


class Interrupted(Exception):
    """SIGTERM, treated like Ctrl-C so the databases are still dropped."""


def main() -> None:
    args = parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    floor_dir = Path(args.floor_dir).resolve()
    if not (floor_dir / "resume.lua").exists():
        raise SystemExit(f"no bench floor at {floor_dir} (--floor-dir)")
    signal.signal(signal.SIGTERM, _raise_interrupted)
    # Even when started in the background, where a shell ignores SIGINT for it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    run = Run(args, floor_dir)
    try:
        results = run.all()
    except (KeyboardInterrupt, Interrupted):
        raise SystemExit("interrupted; cleaned up") from None
    finally:
        run.cleanup()
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {args.json}")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--floor-dir", default=str(ROOT.parent / "shared/bench-floor"))
    parser.add_argument("--count", type=int, default=3000, help="resumes per cell")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--duration", type=int, default=20, help="seconds cap a cell")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--port", type=int, default=0, help="0: a free one")
    args = parser.parse_args()
    if args.quick:
        args.count = min(args.count, 300)
    return args


class Run:
    """One sitting: builds both projects, drives every cell, cleans up."""

    def __init__(self, args, floor_dir: Path):
        self.args, self.floor_dir = args, floor_dir
        self.work = Path(tempfile.mkdtemp(prefix="resume-floor-"))
        self.server_url = os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
        )
        suffix = uuid.uuid4().hex[:8]
        self.floor_db, self.signoff_db = f"floor_{suffix}", f"signoff_bench_{suffix}"
        self.created: list[str] = []
        self.processes: list[subprocess.Popen] = []
        self.port = args.port or free_port()
        self.warm = 50 if args.quick else max(200, 50 * args.workers)

    # ------------------------------------------------------------------ cells
    def all(self) -> dict:
        floor = self.build_floor()
        signoff = self.build_signoff()
        redis = self.redis()
        redis_env = {"SIGNOFF_REDIS_URL": f"redis://127.0.0.1:{redis.port}/0"}
        # Interleaved: a neighbour's load on a shared machine falls on every
        # endpoint alike rather than on whichever ran last.
        targets = {
            "A": ("floorproj.wsgi:application", self.floor_env(), floor, "A"),
            "B": ("floorproj.wsgi:application", self.floor_env(), floor, "B"),
            "Signoff": ("config.wsgi:application", self.signoff_env(), signoff, ""),
            "Signoff (Redis)": (
                "config.wsgi:application",
                self.signoff_env(**redis_env),
                signoff,
                "",
            ),
        }
        plan = [
            (1, ("A", "B", "Signoff")),
            (8, ("A", "B", "Signoff", "Signoff (Redis)")),
        ]
        cells = []
        for clients, variants in plan:
            for variant in variants:
                app, env, built, floor_variant = targets[variant]
                prefix, key = FLOOR_KEYS.get(floor_variant, ("/api", built.get("key")))
                cells.append(self.cell(variant, app, env, prefix, key, built, clients))
        queries = {**floor["queries"], "Signoff": signoff["queries"]}
        queries["Signoff (Redis)"] = signoff["queries_redis"]
        for cell in cells:
            cell["queries"] = queries[cell["variant"]]
        return {
            "count": self.args.count,
            "workers": self.args.workers,
            "cells": cells,
            "ratios": ratios(cells),
            "machine": {"cpus": os.cpu_count(), "date": time.strftime("%F %T %Z")},
        }

    def cell(self, variant, app, env, prefix, key, built, clients) -> dict:
        """A fresh server, a warm-up, then one recorded wrk run."""
        server = self.gunicorn(app, env)
        try:
            self.wrk(prefix, key, built["ids"], 8, self.warm)  # not recorded
            result = self.wrk(prefix, key, built["ids"], clients, self.args.count)
        finally:
            self.stop(server)
        load = os.getloadavg()[0]
        print(f"{variant} c={clients}: {result} (load {load:.1f})", flush=True)
        return {"variant": variant, "conc": clients, **result, "load_1min": load}

    def wrk(self, prefix, key, ids, clients: int, count: int) -> dict:
        """One wrk run over the next unused ids (resume.lua's own slicing)."""
        threads = 1 if clients < 2 else 2
        done = self.work / "wrk.done"
        for stale in self.work.glob("wrk.done.*"):
            stale.unlink()
        offset = ids["offset"]
        process = self.spawn(
            [
                "wrk",
                f"-t{threads}",
                f"-c{clients}",
                f"-d{self.args.duration}s",
                "--timeout",
                "30s",
                "-s",
                str(self.floor_dir / "resume.lua"),
                f"http://127.0.0.1:{self.port}",
                "--",
                str(ids["path"]),
                str(offset),
                str(count),
                str(threads),
                str(clients),
                prefix,
                key,
                str(done),
            ],
            stdout=subprocess.PIPE,
        )
        # Every thread writes its done file at its share: stop wrk then rather
        # than let it sleep out -d (as the floor's run.sh does).
        while process.poll() is None:
            if len(list(self.work.glob("wrk.done.*"))) >= threads:
                process.send_signal(signal.SIGINT)
                break
            time.sleep(0.1)
        out, _ = process.communicate()
        self.processes.remove(process)
        ids["offset"] = offset + threads * (
            count // threads + -(-clients // threads) + 8
        )
        lines = [line for line in out.decode().splitlines() if line.startswith("{")]
        if not lines:
            raise SystemExit(f"wrk printed no result:\n{out.decode()}")
        raw = json.loads(lines[-1])
        return {
            "rps": raw["rps"],
            "p50_ms": raw["p50_ms"],
            "p95_ms": raw["p95_ms"],
            "p99_ms": raw["p99_ms"],
            "responses": raw["responses"],
            "s202": raw["s202"],
            "other": raw["other"],
            "socket_errors": sum(raw[k] for k in raw if k.startswith("err_")),
        }

    def ids_needed(self) -> int:
        """Enough for four cells and their warm-ups: what each wrk run walks past."""
        return 4 * (self.warm + 24) + 4 * (self.args.count + 24) + 50

    # ------------------------------------------------------------------ floor
    def build_floor(self) -> dict:
        project = self.work / "floor"
        project.mkdir()
        for name in ("manage.py", "floorproj", "floor"):
            source = self.floor_dir / name
            copy = shutil.copytree if source.is_dir() else shutil.copy
            copy(source, project / name)
        self.create_database(self.floor_db)
        self.floor_manage("migrate", "-v0")
        # countqueries first: it needs the seeded credentials and adds its rows.
        self.floor_manage("seed", "--n", "10", "--out", str(self.work / "ids0.txt"))
        counted = json.loads(self.floor_manage("countqueries"))
        path = self.work / "floor-ids.txt"
        self.floor_manage("seed", "--n", str(self.ids_needed()), "--out", str(path))
        queries = {}
        for variant, found in counted.items():
            ok = found["status"] == 202 and found["second_call_status"] == 409
            if not ok:
                raise SystemExit(f"floor {variant} did not answer 202 then 409")
            queries[variant] = found["queries"]
        return {"ids": {"path": path, "offset": 0}, "queries": queries}

    def floor_env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
        env.update(DJANGO_SETTINGS_MODULE="floorproj.settings", FLOOR_DB=self.floor_db)
        return env

    def floor_manage(self, *argv) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *argv],
            cwd=self.work / "floor",
            env=self.floor_env(),
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise SystemExit(f"floor manage.py {argv[0]} failed:\n{result.stderr}")
        return result.stdout

    # ---------------------------------------------------------------- Signoff
    def build_signoff(self) -> dict:
        self.create_database(self.signoff_db)
        os.environ["DATABASE_URL"] = self.database_url(self.signoff_db)
        from common import make_waiting_tokens, setup_django

        setup_django()
        from django.contrib.auth import get_user_model
        from django.db import connection

        from approvals.models import ApiToken
        from flows import loader
        from flows.models import Tenant

        tenant = Tenant.objects.create(slug="floor-bench", name="Floor bench")
        user = get_user_model().objects.create(username="floor-bench")
        tenant.members.add(user)
        flow = loader.load_flow(tenant, FLOW).flow
        tokens = make_waiting_tokens(flow, self.ids_needed() + 2, "approval")
        _, key = ApiToken.issue(user, "bench")
        counted = [tokens.pop().execution_id, tokens.pop().execution_id]
        queries = count_queries(counted[0], key)
        queries_redis = count_queries(counted[1], key, redis=True)
        path = self.work / "signoff-ids.txt"
        path.write_text("".join(f"{t.execution_id}\n" for t in tokens))
        connection.close()
        return {
            "ids": {"path": path, "offset": 0},
            "key": key,
            "queries": queries,
            "queries_redis": queries_redis,
        }

    def signoff_env(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=self.database_url(self.signoff_db),
            ALLOWED_HOSTS="127.0.0.1",
            DEBUG="false",
            LOG_LEVEL="ERROR",
            **extra,
        )
        return env

    # ---------------------------------------------------------------- servers
    def gunicorn(self, app: str, env: dict) -> subprocess.Popen:
        chdir = self.work / "floor" if app.startswith("floorproj") else ROOT
        process = self.spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                app,
                "--workers",
                str(self.args.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--backlog",
                "2048",
                "--timeout",
                "60",
            ],
            cwd=chdir,
            env=env,
        )
        wait_for_port(self.port, process)
        return process

    def redis(self) -> subprocess.Popen:
        port = free_port()
        process = self.spawn(
            ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        process.port = port
        wait_for_port(port, process)
        return process

    def spawn(self, argv, **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(argv, start_new_session=True, **kwargs)
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process in self.processes:
            self.processes.remove(process)

    # -------------------------------------------------------------- databases
    def database_url(self, name: str) -> str:
        parts = urlsplit(self.server_url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.database_url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, name: str) -> None:
        self.admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)

    def cleanup(self) -> None:
        for process in list(self.processes):
            self.stop(process)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django never set up: nothing open
            pass
        for name in self.created:
            self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(self.work, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def _raise_interrupted(signum, frame):
    raise Interrupted


if __name__ == "__main__":
    main()
