"""A request and its reply as the app sees them, whichever transport carried them.

The in-process interceptor and the HTTP server both turn what they receive into a `Request`
and send back the `Reply` the app returns; nothing in the app knows which one it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    """What the client sent, parsed once."""

    method: str
    host: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Reply:
    """What the fake service answers: a status, a body and headers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: The JSON value the app encoded as `body`, if it built one: read it instead of parsing.
    document: Any = field(default=None, compare=False, repr=False)


Handler = Callable[[Request], Reply]
