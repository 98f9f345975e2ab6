"""Kestra's task `retry`: constant, exponential or random waits between attempts.

`maxAttempts` counts every attempt, the first included (Kestra's reading: with 5,
a task that fails four times succeeds on the fifth); `maxDuration` bounds the time
since the first attempt started.
"""

import random
from datetime import datetime, timedelta

from flows.durations import parse_duration

TYPES = ("constant", "exponential", "random")
DURATION_KEYS = ("interval", "maxInterval", "minInterval", "maxDuration")
KEYS = {"type", "maxAttempts", "maxAttempt", "warningOnRetry", "delayFactor"}
KEYS |= {"behavior", *DURATION_KEYS}


def check(policy) -> list[str]:
    """Problems with a retry policy, as sentences (the loader adds the line)."""
    if not isinstance(policy, dict):
        return ["'retry' must be a mapping with a 'type'"]
    problems = [f"unknown retry property '{k}'" for k in policy if k not in KEYS]
    kind = policy.get("type")
    if kind not in TYPES:
        problems.append(f"retry 'type' must be one of {', '.join(TYPES)}")
    for key in DURATION_KEYS:
        if key in policy:
            try:
                parse_duration(str(policy[key]))
            except ValueError:
                problems.append(f"retry '{key}' must be an ISO 8601 duration")
    needed = {"constant": ["interval"], "exponential": ["interval", "maxInterval"]}
    needed["random"] = ["minInterval", "maxInterval"]
    for key in needed.get(kind, []):
        if key not in policy:
            problems.append(f"a {kind} retry needs '{key}'")
    attempts = policy.get("maxAttempts", policy.get("maxAttempt"))
    if attempts is None and "maxDuration" not in policy:
        problems.append("a retry needs 'maxAttempts', 'maxDuration' or both")
    if attempts is not None and (not isinstance(attempts, int) or attempts < 1):
        problems.append("retry 'maxAttempts' must be a whole number of at least 1")
    if policy.get("behavior", "RETRY_FAILED_TASK") != "RETRY_FAILED_TASK":
        problems.append("retry 'behavior' supports RETRY_FAILED_TASK only")
    return problems


def next_wait(
    policy: dict | None, attempt: int, first_started: datetime, moment: datetime
) -> timedelta | None:
    """How long to wait before attempt `attempt + 1`, or None: no more attempts."""
    if not policy:
        return None
    attempts = policy.get("maxAttempts", policy.get("maxAttempt"))
    if attempts is None and "maxDuration" not in policy:
        attempts = 1  # a policy bounded by nothing would retry forever
    if attempts is not None and attempt >= attempts:
        return None
    wait = _wait(policy, attempt)
    limit = policy.get("maxDuration")
    if limit and moment + wait - first_started > parse_duration(limit):
        return None
    return wait


def _wait(policy: dict, attempt: int) -> timedelta:
    kind = policy["type"]
    if kind == "random":
        low = parse_duration(policy["minInterval"]).total_seconds()
        high = parse_duration(policy["maxInterval"]).total_seconds()
        return timedelta(seconds=random.uniform(low, high))  # noqa: S311 - not crypto
    interval = parse_duration(policy["interval"])
    if kind == "constant":
        return interval
    factor = float(policy.get("delayFactor", 2))
    wait = interval * (factor ** (attempt - 1))
    return min(wait, parse_duration(policy["maxInterval"]))


def warns(policy: dict | None, attempt: int) -> bool:
    """`warningOnRetry`: a task that needed more than one attempt ends WARNING."""
    return bool(policy and policy.get("warningOnRetry") and attempt > 1)
