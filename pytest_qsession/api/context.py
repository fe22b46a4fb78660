"""What a handler may use: the platform, the account it is offered under, and token time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..platform.service import Platform
from .cloud import Account


@dataclass
class Context:
    """The platform and account behind one app.

    `token_time` dates IAM tokens (seconds since the epoch). In process it is the platform's
    virtual now, which is also what the client's frozen clock reads; a client in another process
    checks a token's `exp` against its own real clock, so the server dates tokens in real time.
    """

    platform: Platform
    account: Account
    token_time: Callable[[], float] | None = None

    def token_now(self) -> float:
        """Now, on the clock tokens are dated and checked by (seconds since the epoch)."""
        if self.token_time is not None:
            return self.token_time()
        return self.platform.now().timestamp()

    def token_issued_at(self) -> int:
        return int(self.token_now())
