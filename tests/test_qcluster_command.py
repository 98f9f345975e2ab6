"""The qcluster wrapper's process bookkeeping (the stop itself: test_worker_faults)."""

import os
import signal
import subprocess
import sys

from django.core.management import get_commands

from flows.management.commands import qcluster
from tests.worker_support import wait_until


def test_manage_py_qcluster_is_the_wrapper_that_stops_on_sigterm():
    assert get_commands()["qcluster"] == "flows"


def test_descendants_lists_children_and_grandchildren_while_they_run():
    script = "import subprocess; subprocess.run(['sleep', '30'])"
    child = subprocess.Popen([sys.executable, "-c", script])
    grandchildren = set()
    try:
        grandchildren = wait_until(lambda: qcluster.descendants(child.pid), 10)
        assert len(grandchildren) == 1
        assert {child.pid, *grandchildren} <= qcluster.descendants(os.getpid())
        assert all(qcluster.is_running(pid) for pid in grandchildren)
    finally:
        child.kill()
        child.wait()
        for pid in grandchildren:
            os.kill(pid, signal.SIGKILL)
    assert not qcluster.is_running(child.pid)
