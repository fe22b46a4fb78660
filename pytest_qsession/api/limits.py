"""Limits the REST reference states for `POST /jobs` and `PUT /jobs/{id}/tags`, checked in one place.

Each is refused before anything is created, as the service does. The numbers are the REST
reference's; the messages follow the service's where one has been seen ("provided cost (28800)
exceeds program cost (10000)") and are chosen otherwise.
"""

from __future__ import annotations

from typing import Any

from ..platform.errors import ApiError, bad_request
from .messages import Request

MAX_TAGS = 8
MAX_TAG_LENGTH = 86
#: Largest `cost` (the client's `max_execution_time`), in seconds.
MAX_COST = 10_800
#: Largest request body: 64 MB (chosen: MiB, 64 * 1024 * 1024 bytes).
MAX_BODY_BYTES = 64 * 1024 * 1024


def check_body_size(length: int) -> None:
    """Refuse a request body over the service's input limit (the server checks it unread)."""
    if length > MAX_BODY_BYTES:
        raise ApiError(413, f"The request body is {length:,} bytes; the limit is {MAX_BODY_BYTES:,}.")


def check_job_request(request: Request, body: dict[str, Any]) -> None:
    """Refuse a request over a stated limit: body size, tag count and length, cost."""
    check_body_size(len(request.body))
    tags = body.get("tags")
    if isinstance(tags, list):
        if len(tags) > MAX_TAGS:
            raise bad_request(f"A job can have at most {MAX_TAGS} tags, got {len(tags)}.")
        for tag in tags:
            if isinstance(tag, str) and len(tag) > MAX_TAG_LENGTH:
                raise bad_request(
                    f"Tag {tag[:20]!r}... is {len(tag)} characters; the limit is {MAX_TAG_LENGTH}."
                )
    cost = body.get("cost")
    if isinstance(cost, int) and cost > MAX_COST:
        raise bad_request(f"provided cost ({cost}) exceeds program cost ({MAX_COST})")
