"""IBM Cloud's side of signing in: IAM tokens, Global Search and Global Catalog.

The client needs these three before it talks to the runtime API: an access token (a JWT whose
`iat`/`exp` it reads without checking the signature), the instances the key can see, and each
instance's plan.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..platform.plans import Plan
from .messages import Reply, Request

if TYPE_CHECKING:
    from .context import Context

TOKEN_LIFETIME = 3600


@dataclass(frozen=True)
class Account:
    """The one IBM Cloud account and instance the fake platform offers."""

    plan: Plan
    api_key: str = "qsession-fake-api-key"
    instance_name: str = "qsession-instance"
    region: str = "us-east"

    @property
    def crn(self) -> str:
        return (
            f"crn:v1:bluemix:public:quantum-computing:{self.region}:"
            "a/0a1b2c3d4e5f60718293a4b5c6d7e8f9:5e7b3c1a-8f2d-4c6e-9a0b-1d2e3f4a5b6c::"
        )

    @property
    def plan_id(self) -> str:
        return f"qsession-{self.plan.name}-plan"


def json_reply(body: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


def iam_token(ctx: Context, request: Request) -> Reply:
    """`POST /identity/token`: any API key is accepted; the token lives one hour."""
    issued = ctx.token_issued_at()
    claims = {"iat": issued, "exp": issued + TOKEN_LIFETIME, "sub": "qsession", "iss": "qsession"}
    token = ".".join(
        _b64(json.dumps(part).encode())
        for part in ({"alg": "HS256", "typ": "JWT"}, claims)
    ) + "." + _b64(b"qsession-unsigned")
    return json_reply(
        {
            "access_token": token,
            "refresh_token": "not_supported",
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "expiration": issued + TOKEN_LIFETIME,
            "scope": "ibm openid",
        }
    )


def search_resources(ctx: Context, request: Request) -> Reply:
    """`POST /v3/resources/search`: the one quantum-computing instance of the account."""
    account = ctx.account
    item = {
        "crn": account.crn,
        "name": account.instance_name,
        "service_plan_unique_id": account.plan_id,
        "doc": {"extensions": {"virtual_private_endpoints": {}, "quantum": {"allocation": 1}}},
        "tags": [],
    }
    return json_reply({"items": [item], "limit": 100})


def catalog_entry(ctx: Context, request: Request, plan_id: str) -> Reply:
    """`GET /api/v1/{plan id}`: the plan's display name and pricing type."""
    account = ctx.account
    if plan_id != account.plan_id:
        return json_reply({"message": f"Catalog entry {plan_id} not found"}, status=404)
    pricing = "free" if account.plan.name == "open" else "paid"
    return json_reply(
        {
            "id": plan_id,
            "name": account.plan.name,
            "overview_ui": {"en": {"display_name": account.plan.name.capitalize()}},
            "metadata": {"pricing": {"type": pricing}},
        }
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
