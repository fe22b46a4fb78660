"""Errors the platform answers with, in the real service's terms (HTTP status, code, message)."""

from __future__ import annotations


class ApiError(Exception):
    """A refusal the REST face turns into `{"errors": [{"code", "message"}]}` with `status`."""

    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code if code is not None else status

    def body(self) -> dict:
        return {"errors": [{"code": self.code, "message": self.message}]}


#: Codes from IBM's published error registry; where it has none, the HTTP status stands in.
BACKEND_NOT_FOUND = 1007
INVALID_CREDENTIALS = 1201
SESSION_CLOSED = 4001

#: The answer to a runtime API request without credentials (registry: "Invalid credentials.").
UNAUTHORIZED = ApiError(
    401, "Invalid credentials: the request has no Authorization header.", INVALID_CREDENTIALS
)


def not_found(what: str, ident: str) -> ApiError:
    code = BACKEND_NOT_FOUND if what == "Backend" else 404
    return ApiError(404, f"{what} {ident} not found.", code=code)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, code=400)
