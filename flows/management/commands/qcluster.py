"""`qcluster`: django-q2's cluster, stopped within seconds by SIGTERM or SIGINT.

django-q2 1.11's own handler (`Cluster.sig_handler`) sets a multiprocessing Event
that the sentinel process waits on. When SIGTERM goes to the whole process group
(systemd, docker, `kill -TERM -PGID`) the sentinel, whose SIGTERM is SIG_DFL, dies
while registered as a sleeper on that Event's Condition, and `Event.set()` (its
`notify_all`) then waits forever for the dead sleeper to wake: the master hangs.
Here the handler only notes the signal; the main loop asks the cluster to stop
from a daemon thread, waits at most SIGNOFF_WORKER_STOP_SECONDS, and kills what is
left. A step cut short is retaken through its heartbeat lease (flows.engine).
"""

import contextlib
import multiprocessing
import os
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import CommandError
from django_q.cluster import Cluster
from django_q.management.commands import qcluster


class Command(qcluster.Command):
    help = "Starts the worker cluster; SIGTERM or SIGINT stops it within seconds."

    def handle(self, *args, **options):
        settings.SECRET_KEY  # noqa: B018 - django-q2 signs tasks with it
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        cluster = Cluster()  # installs django-q2's handlers; replaced right below
        received: list[int] = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda number, frame: received.append(number))
        try:
            cluster.start()
        except RuntimeError:
            if not received:  # the sentinel died of the signal while starting
                raise
        while not (received or options.get("run_once")):
            if not cluster.sentinel.is_alive():
                stop_cluster(cluster)
                raise CommandError("the cluster's sentinel process exited")
            time.sleep(0.2)
        stop_cluster(cluster)


def stop_cluster(cluster: Cluster) -> None:
    """Stop gracefully if the cluster can, within the grace period; then kill."""
    # Listed now: once the sentinel is gone, its workers are no longer our kin.
    processes = descendants(os.getpid())
    threading.Thread(target=cluster.stop, name="qcluster-stop", daemon=True).start()
    deadline = time.monotonic() + settings.SIGNOFF_WORKER_STOP_SECONDS
    while time.monotonic() < deadline:
        multiprocessing.active_children()  # reaps the sentinel once it exits
        processes |= descendants(os.getpid())
        processes = {pid for pid in processes if is_running(pid)}
        if not processes:
            return
        time.sleep(0.1)
    for pid in processes | descendants(os.getpid()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    multiprocessing.active_children()


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state letter) for every process, from Linux's /proc."""
    table = {}
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return table  # no /proc: only the graceful stop applies
    for name in entries:
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        table[int(name)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int) -> set[int]:
    """The live (not zombie) processes below `pid`."""
    children: dict[int, list[int]] = {}
    for child, (parent, state) in process_table().items():
        if state != "Z":
            children.setdefault(parent, []).append(child)
    found, frontier = set(), [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def is_running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
