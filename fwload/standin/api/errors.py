"""Error answers in the shapes Funkwhale's stack gives them.

DRF views answer JSON (``{"detail": ...}`` or ``{"field": [messages]}``); Django itself
answers HTML for unknown URLs, CSRF failures and unhandled exceptions (its bare 500 page, as
with ``DEBUG=False`` and no ``500.html``); nginx answers HTML for oversized bodies.
Handlers raise `ApiError`; the app turns it into the response.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

NOT_AUTHENTICATED = "Authentication credentials were not provided."
PERMISSION_DENIED = "You do not have permission to perform this action."
REQUIRED = "This field is required."
WWW_AUTHENTICATE = 'Bearer realm="api"'


class ApiError(Exception):
    """An answer other than success; `body` is JSON unless `media_type` says HTML."""

    def __init__(
        self,
        status: int,
        body: Any,
        *,
        headers: dict[str, str] | None = None,
        media_type: str = "application/json",
    ) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.media_type = media_type

    def response(self) -> Response:
        if self.media_type.startswith("text/html"):
            return HTMLResponse(self.body, status_code=self.status, headers=self.headers)
        response = JSONResponse(self.body, status_code=self.status, headers=self.headers)
        response.headers["content-type"] = self.media_type
        return response


def not_found(detail: str = "Not found.") -> ApiError:
    return ApiError(404, {"detail": detail})


def invalid(errors: dict[str, Any] | list[Any]) -> ApiError:
    return ApiError(400, errors)


def non_field(message: str) -> ApiError:
    return ApiError(400, {"non_field_errors": [message]})


def not_authenticated(detail: str = NOT_AUTHENTICATED, challenge: str = WWW_AUTHENTICATE) -> ApiError:
    return ApiError(401, {"detail": detail}, headers={"WWW-Authenticate": challenge})


def permission_denied(detail: str = PERMISSION_DENIED) -> ApiError:
    return ApiError(403, {"detail": detail})


_DJANGO_404 = (
    '<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n'
    "  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n"
)

DJANGO_500 = (
    '<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n'
    "  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n"
)

_CSRF_PAGE = (
    '\n<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta http-equiv="content-type" '
    'content="text/html; charset=utf-8">\n  <meta name="robots" content="NONE,NOARCHIVE">\n'
    '  <title>403 Forbidden</title>\n</head>\n<body>\n  <div id="summary">\n'
    "    <h1>Forbidden <span>(403)</span></h1>\n    <p>CSRF verification failed. Request aborted.</p>\n"
    "    <p>{reason}</p>\n  </div>\n</body>\n</html>\n"
)

_413_PAGE = (
    "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    "<center><h1>413 Request Entity Too Large</h1></center>\r\n"
    "<hr><center>fwload standin</center>\r\n</body>\r\n</html>\r\n"
)


def csrf_failure(reason: str) -> ApiError:
    """Django's CSRF middleware page (an HTML 403, not JSON)."""
    return ApiError(403, _CSRF_PAGE.format(reason=reason), media_type="text/html; charset=utf-8")


def server_error() -> ApiError:
    """Django's answer to an exception a view did not handle (an HTML 500, not JSON)."""
    return ApiError(500, DJANGO_500, media_type="text/html; charset=utf-8")


def body_too_large() -> ApiError:
    return ApiError(413, _413_PAGE, media_type="text/html")


async def handle_api_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error.response()


async def handle_http_exception(request: Request, error: Exception) -> Response:
    """Starlette's routing errors in Django/DRF dress: HTML 404, JSON 405."""
    assert isinstance(error, HTTPException)
    if error.status_code == 405:
        return JSONResponse(
            {"detail": f'Method "{request.method}" not allowed.'}, status_code=405, headers=error.headers
        )
    if error.status_code == 404:
        return HTMLResponse(_DJANGO_404, status_code=404)
    return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
