"""HTTP headers that every console response carries: CSP, no caching of pages, no sniffing."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",
}

STATIC_PREFIX = "/static/"
# Served over HTTPS (INTAKE_CONSOLE_URL): browsers refuse plain HTTP to it for a year after.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def headers_for(path: str, *, https: bool = False) -> dict[str, str]:
    """Pages may show case data and must never sit in a cache; static files only revalidate."""
    caching = "no-cache" if path.startswith(STATIC_PREFIX) else "no-store"
    transport = {"Strict-Transport-Security": STRICT_TRANSPORT_SECURITY} if https else {}
    return {**SECURITY_HEADERS, **transport, "Cache-Control": caching}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path", "")
        path: str = scope["path"]
        extra = headers_for(path.removeprefix(root) if root else path, https=self.https)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
