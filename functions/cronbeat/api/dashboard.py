"""The dashboard page (`GET /`) and the Content-Security-Policy that lets only it run.

The page is one self-contained file with inline `<style>` and `<script>`. Rather than allowing
'unsafe-inline', the policy names the SHA-256 of each inline block, so an injected script or
style never runs, and the page may talk only to its own origin.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cronbeat</title></head>
<body><h1>cronbeat</h1><p>The dashboard is not installed. The management API is at
<code>/api/v3/</code>.</p></body></html>
"""

_BLOCK = {
    "script": re.compile(r"<script(?:\s[^>]*)?>(.*?)</script>", re.DOTALL | re.IGNORECASE),
    "style": re.compile(r"<style(?:\s[^>]*)?>(.*?)</style>", re.DOTALL | re.IGNORECASE),
}


@dataclass(frozen=True, slots=True)
class Page:
    html: str
    csp: str


def _hashes(html: str, tag: str) -> str:
    digests = [
        f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'"
        for b in _BLOCK[tag].findall(html)
    ]
    return " ".join(dict.fromkeys(digests)) or "'none'"


def content_security_policy(html: str) -> str:
    """Same origin only; inline blocks allowed by hash, inline attributes not at all."""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {_hashes(html, 'script')}",
            f"style-src {_hashes(html, 'style')}",
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def read_page() -> str:
    """The page shipped in the package, or a placeholder when it is not there."""
    try:
        return (resources.files("cronbeat") / "dashboard" / "index.html").read_text("utf-8")
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        return PLACEHOLDER


@cache
def page() -> Page:
    """Read and hashed once per container."""
    html = read_page()
    return Page(html=html, csp=content_security_policy(html))


def headers(current: Page) -> dict[str, str]:
    return {
        "Content-Security-Policy": current.csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }
