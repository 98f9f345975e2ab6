"""A real qcluster sends an approval request's callback: retried, then delivered."""

import json
import os
import signal
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django_q.conf import Conf
from rest_framework.test import APIClient

from approvals import requests
from flows import callbacks
from flows.models import ApprovalRequest, CallbackDelivery
from tests.dbutil import database_url
from tests.receivers import Receiver
from tests.test_approval_requests import verify
from tests.worker_support import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def qcluster(tmp_path, monkeypatch):
    queue = f"signoff-requests-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SIGNOFF_SYNC_WORKER": "0",
        "SIGNOFF_SWEEP_INTERVAL": "0.2",
        "SIGNOFF_WORKERS": "1",
        "SIGNOFF_QUEUE_NAME": queue,
        "SIGNOFF_OUTBOUND_ALLOW": "127.0.0.1",
        "SIGNOFF_CALLBACK_FIRST_DELAY": "0.5",
    }
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", queue)
    monkeypatch.setattr(Conf, "PREFIX", queue)
    log = open(tmp_path / "qcluster.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield process
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)
    log.close()


def test_the_worker_retries_a_failing_callback_then_delivers_it(
    qcluster, tenant, user, settings
):
    settings.SIGNOFF_OUTBOUND_ALLOW = ["127.0.0.1"]
    server = Receiver(statuses=[500])
    try:
        made = requests.create(
            tenant,
            {
                "message": "Ship it?",
                "screen": "approval",
                "inputs": [],
                "assignees": {},
                "deadline": "PT1H",
                "behavior": "CANCEL",
                "callbackUrl": server.url,
            },
            actor=user,
        )
        url = requests.complete_url(made)
        done = APIClient().post(url, {"decision": "Approved"}, format="json")
        assert done.status_code == 202
        wait_until(lambda: len(server.received) >= 2, seconds=30)
        wait_until(
            lambda: ApprovalRequest.objects.get(pk=made.pk).callback == "DELIVERED",
            seconds=10,
        )
        codes = list(
            CallbackDelivery.objects.filter(request=made).values_list(
                "status_code", flat=True
            )
        )
        assert codes == [500, 200]
        (h1, b1), (h2, b2) = server.received
        assert h1["Idempotency-Key"] == h2["Idempotency-Key"]
        assert b1 == b2 and json.loads(b1)["decision"] == "Approved"
        secret = callbacks.callback_secret(made.pk)
        assert verify(h2, b2, secret)
    finally:
        server.close()
