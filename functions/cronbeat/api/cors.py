"""The CORS headers Healthchecks.io's `cors` decorator sends, for the API and ping routes.

Standard library only, so the ping function can use it without importing the API's router.
"""

from __future__ import annotations

ALLOWED_HEADERS = ["X-Api-Key"]
MAX_AGE_S = 600
"""What Healthchecks.io allows; Powertools' preflight reply for the API uses them too."""


def allow_header(methods: list[str]) -> str:
    """An `Allow` (or `Access-Control-Allow-Methods`) value: the methods, then OPTIONS."""
    return ", ".join([*methods, "OPTIONS"])


def cors_headers(methods: list[str]) -> dict[str, str]:
    """The headers for a route that takes `methods` (OPTIONS is added)."""
    return {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
        "Access-Control-Allow-Methods": allow_header(methods),
        "Access-Control-Max-Age": str(MAX_AGE_S),
    }
