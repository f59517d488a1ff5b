"""Schemathesis hooks for the hub's API (loaded by ../../schemathesis.toml).

An OpenAPI document cannot say every rule that ties one parameter to another,
so a request can match the document and still break a rule its operation's
description states. Before each call these hooks bring such a request back
within the stated rules, changing only what the rule is about; schemathesis
then re-checks whether the request is still a valid one, so its checks judge
the hub's answer to a request the contract really promises to accept.

The rules (each also written in the operation's description):

- analytics (`summary`, `export`): a named `time_range`, or a custom range of
  `start` and `end` together, never both; `end` after `start`; a custom range
  at most MAX_CUSTOM_DAYS long; `tz` an IANA zone name; an export's `types`
  names activity types when `data` is `activities` and metrics when it is
  `metrics` (the document lists both sets);
- bulk import: each `created_at` no earlier than 1970 and no later than a few
  minutes from now.

Nothing else is touched: every other field keeps what schemathesis generated.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import available_timezones

import schemathesis

MAX_CUSTOM_DAYS = 5 * 366
ZONES = available_timezones() | {"UTC"}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ANALYTICS = {"/api/analytics/summary", "/api/analytics/export"}
METRICS = {
    "prospects_added", "prospects_analyzed", "research_tasks_completed", "outreach_sent",
    "meetings_booked", "content_published", "automations_triggered", "tasks_completed",
    "conversion_rate",
}
ACTIVITY_TYPES = {
    "prospect_added", "research_completed", "outreach_sent", "meeting_booked",
    "content_published", "task_completed", "automation_triggered", "notification",
}


def _instant(text):
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _fix_range(params: dict) -> None:
    """Holds a dict of analytics parameters to the range and zone rules."""
    has_start, has_end = params.get("start") is not None, params.get("end") is not None
    if params.get("time_range") is not None and (has_start or has_end):
        params.pop("start", None)
        params.pop("end", None)
    elif has_start != has_end:
        params.pop("start", None)
        params.pop("end", None)
    elif has_start and has_end:
        start, end = _instant(params["start"]), _instant(params["end"])
        if start is not None and end is not None:
            if end <= start:
                start, end = end, start
            if end == start:
                end = start + timedelta(days=1)
            if end - start > timedelta(days=MAX_CUSTOM_DAYS):
                end = start + timedelta(days=30)
            if start.year < 2 or end.year > 9998:
                start, end = EPOCH, EPOCH + timedelta(days=30)
            params["start"], params["end"] = start.isoformat(), end.isoformat()
    types, data = params.get("types"), params.get("data")
    if data in ("activities", "metrics") and types is not None:
        allowed = METRICS if data == "metrics" else ACTIVITY_TYPES

        def keep(name):
            return name in allowed

        if isinstance(types, str):
            names = [n.strip(" ") for n in types.split(",")]
            params["types"] = ",".join(n for n in names if n and keep(n))
        elif isinstance(types, list) and all(isinstance(n, str) for n in types):
            params["types"] = [n for n in types if keep(n)]
    tz = params.get("tz")
    if isinstance(tz, str) and tz not in ZONES:
        params["tz"] = "UTC"


def _fix_bulk(body: dict) -> None:
    latest = datetime.now(timezone.utc) + timedelta(minutes=4)
    for item in body.get("activities") or []:
        if isinstance(item, dict):
            at = _instant(item.get("created_at"))
            if at is not None and not (EPOCH <= at <= latest):
                item["created_at"] = None


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path
    if path in ANALYTICS:
        if isinstance(case.query, dict):
            _fix_range(case.query)
        if isinstance(case.body, dict):
            _fix_range(case.body)
    elif path == "/api/activities/bulk" and isinstance(case.body, dict):
        _fix_bulk(case.body)
