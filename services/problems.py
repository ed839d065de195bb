"""RFC 9457 problem details: every error any service returns, with a stable `code`.

DomainError
 ├── BadRequest (400)            ├── NotFound (404)
 ├── Unauthenticated (401)       ├── Conflict (409)
 ├── Forbidden (403)             └── UpstreamError (502/503/504: another service failed us)
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """A refusal the caller can act on. Subclasses fix the status; `code` names the reason."""

    status = 400
    title = "Bad request"

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra

    def to_problem(self, instance: str) -> dict[str, Any]:
        return {
            "type": f"urn:mynumber-net:problem:{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            "instance": instance,
            **self.extra,
        }


class BadRequest(DomainError):
    status, title = 400, "Bad request"


class Unauthenticated(DomainError):
    status, title = 401, "Not authenticated"


class Forbidden(DomainError):
    status, title = 403, "Forbidden"


class NotFound(DomainError):
    status, title = 404, "Not found"


class Conflict(DomainError):
    status, title = 409, "Conflict"


class UpstreamError(DomainError):
    """Another service refused or failed; carries its status and problem when it sent one."""

    title = "Upstream service error"

    def __init__(self, code: str, detail: str, status: int = 502, **extra: Any) -> None:
        super().__init__(code, detail, **extra)
        self.status = status


def problem_response(status: int, problem: dict[str, Any]) -> JSONResponse:
    return JSONResponse(problem, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Map domain errors, validation errors and HTTP errors to problem+json in one place."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(exc.status, exc.to_problem(request.url.path))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        error = BadRequest("invalid_request", "The request does not match the schema.", errors=errors)
        error.status = 422
        return problem_response(422, error.to_problem(request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        problem = {
            "type": f"urn:mynumber-net:problem:{code}",
            "title": str(exc.detail),
            "status": exc.status_code,
            "code": code,
            "detail": str(exc.detail),
            "instance": request.url.path,
        }
        return problem_response(exc.status_code, problem)
