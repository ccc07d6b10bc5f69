"""Reply headers the ping, API and badge routes share: Healthchecks.io's CORS headers (what
its `cors` decorator sends) and its never-cache header.

Standard library only, so the ping function can use it without importing the API's router.
"""

from __future__ import annotations

NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"

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
