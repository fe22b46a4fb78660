"""IBM Cloud's side of signing in: IAM tokens, Global Search and Global Catalog.

The client needs these three before it talks to the runtime API: an access token (a JWT whose
`iat`/`exp` it reads without checking the signature), the instances the key can see, and each
instance's plan.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import uuid
from urllib.parse import parse_qs
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..platform.plans import Plan
from .messages import Reply, Request

if TYPE_CHECKING:
    from .context import Context

TOKEN_LIFETIME = 3600


#: The IBM Cloud account id in every CRN the fake serves.
ACCOUNT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


@dataclass
class Account:
    """The IBM Cloud account the fake offers: its own instance, plus every instance the user's
    world names (environment, saved accounts, `instance=`), each served on the configured plan."""

    plan: Plan
    api_key: str = "qsession-fake-api-key"
    instance_name: str = "qsession-instance"
    region: str = "us-east"
    #: crn -> instance name, in the order they became known; the fake's own comes first.
    instances: dict[str, str] = field(default_factory=dict)
    #: API keys IAM answers "could not be found" for (`FakeRuntime.reject_api_key`).
    rejected_keys: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.instances.setdefault(self.crn, self.instance_name)

    @property
    def crn(self) -> str:
        return (
            f"crn:v1:bluemix:public:quantum-computing:{self.region}:"
            f"a/{ACCOUNT_ID}:5e7b3c1a-8f2d-4c6e-9a0b-1d2e3f4a5b6c::"
        )

    @property
    def plan_id(self) -> str:
        return f"qsession-{self.plan.name}-plan"

    def add_instance(self, crn_or_name: str) -> str:
        """Serve an instance the user names, by CRN or by name; return its CRN."""
        if crn_or_name.startswith("crn:"):
            self.instances.setdefault(crn_or_name, _name_in(crn_or_name))
            return crn_or_name
        for crn, name in self.instances.items():
            if name == crn_or_name:
                return crn
        crn = crn_for(crn_or_name, self.region)
        self.instances[crn] = crn_or_name
        return crn


def crn_for(name: str, region: str) -> str:
    """A stable CRN for an instance known only by its name."""
    guid = uuid.uuid5(uuid.NAMESPACE_URL, f"qsession-instance/{name}")
    return f"crn:v1:bluemix:public:quantum-computing:{region}:a/{ACCOUNT_ID}:{guid}::"


def _name_in(crn: str) -> str:
    """A readable instance name for a CRN the user gave (its service-instance segment)."""
    parts = crn.split(":")
    return parts[7] if len(parts) > 7 and parts[7] else crn


def json_reply(body: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(body).encode(), {"Content-Type": "application/json"}, body)


#: The issuer of the fake's tokens: the runtime API checks the expiry of these only.
ISSUER = "qsession"


def iam_token(ctx: Context, request: Request) -> Reply:
    """`POST /identity/token`: any API key but a rejected one is accepted; the token lives one
    hour. A rejected key gets IAM's own answer for a key it does not know (400, BXNIM0415E)."""
    form = parse_qs(request.body.decode("utf-8", "replace"))
    if (form.get("apikey") or [""])[-1] in ctx.account.rejected_keys:
        return json_reply(
            {
                "errorCode": "BXNIM0415E",
                "errorMessage": "Provided API key could not be found.",
                "context": {
                    "requestId": "qsession-" + uuid.uuid5(uuid.NAMESPACE_URL, request.path).hex,
                    "requestType": "incoming.Identity_Token",
                    "url": f"https://{request.host}",
                },
            },
            status=400,
        )
    issued = ctx.token_issued_at()
    claims = {"iat": issued, "exp": issued + TOKEN_LIFETIME, "sub": "qsession", "iss": ISSUER}
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


def refuse_bad_token(ctx: Context, request: Request) -> Reply | None:
    """401 for a runtime API request whose bearer token is one the fake issued and is past its
    `exp`, or is a rejected API key itself (clients before 0.41 send the key when IAM refuses
    it), as the service refuses them (chosen wording); None to go on. The client renews its
    token at 80% of its lifetime, so only a client that kept one too long meets the first.
    Other tokens (other SDKs calling the REST API with any bearer) are not checked."""
    authorization = request.headers.get("authorization", "")
    if authorization.partition(" ")[2] in ctx.account.rejected_keys:
        return _unauthorized("The access token is not valid: sign in with a valid API key.")
    claims = _claims(authorization)
    if claims.get("iss") != ISSUER or not isinstance(claims.get("exp"), int):
        return None
    if ctx.token_now() < claims["exp"]:
        return None
    return _unauthorized("The access token has expired: request a new one from IAM.")


def _unauthorized(message: str) -> Reply:
    return json_reply({"errors": [{"code": 401, "message": message}]}, status=401)


@functools.lru_cache(maxsize=64)
def _claims(authorization: str) -> dict[str, Any]:
    """The payload of a `Bearer <jwt>` header, unverified (as the client reads it); {} if none.

    Kept for the few tokens a test's clients hold: every request carries one. Read-only."""
    scheme, _, token = authorization.partition(" ")
    parts = token.split(".")
    if scheme.lower() != "bearer" or len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def search_resources(ctx: Context, request: Request) -> Reply:
    """`POST /v3/resources/search`: every quantum-computing instance the account serves."""
    account = ctx.account
    items = [
        {
            "crn": crn,
            "name": name,
            "service_plan_unique_id": account.plan_id,
            "doc": {"extensions": {"virtual_private_endpoints": {}, "quantum": {"allocation": 1}}},
            "tags": [],
        }
        for crn, name in account.instances.items()
    ]
    return json_reply({"items": items, "limit": 100})


def resource_instances(ctx: Context, request: Request) -> Reply:
    """`GET /v2/resource_instances?name=...` (Resource Controller): an instance name to its CRN.

    Older clients resolve `instance=<name>` this way; any name is served as an instance."""
    name = request.param("name")
    if not name:
        return json_reply({"rows_count": 0, "resources": []})
    crn = ctx.account.add_instance(name)
    return json_reply({"rows_count": 1, "resources": [{"crn": crn, "name": name}]})


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
