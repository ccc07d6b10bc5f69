"""What the API function serves besides JSON: the dashboard, the status probe, the OpenAPI spec."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest

from cronbeat.api import dashboard
from cronbeat.handlers.api import openapi_document
from tests.conftest import Aws
from tests.integration.api_requests import Api

ROOT = Path(__file__).resolve().parents[2]


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_dashboard_page_is_served_with_a_same_origin_policy(api: Api) -> None:
    # When the root is fetched without a key
    reply = api.get("/", key="")
    # Then the page comes back as HTML
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.text == dashboard.read_page()
    # And its policy allows only this origin and only the page's own inline blocks
    policy = dict(
        part.strip().split(" ", 1) for part in reply.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    assert "unsafe-inline" not in reply.headers["content-security-policy"]
    scripts = re.findall(r"<script(?:\s[^>]*)?>(.*?)</script>", reply.text, re.S)
    styles = re.findall(r"<style(?:\s[^>]*)?>(.*?)</style>", reply.text, re.S)
    assert scripts
    assert styles
    assert set(policy["script-src"].split()) == {sha256(s) for s in scripts}
    assert set(policy["style-src"].split()) == {sha256(s) for s in styles}
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_policy_hashes_each_inline_block() -> None:
    # Given a page with one script and two styles
    html = "<style>a{}</style><style media='x'>b{}</style><script>go()</script>"
    # When its policy is made
    policy = dashboard.content_security_policy(html)
    # Then each block's hash is allowed, and nothing else
    assert f"script-src {sha256('go()')};" in policy
    assert f"style-src {sha256('a{}')} {sha256('b{}')};" in policy


def test_placeholder_when_the_page_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a package without the dashboard file
    monkeypatch.setattr(dashboard.resources, "files", lambda _: Path("/nonexistent/cronbeat"))
    # When the page is read
    page = dashboard.read_page()
    # Then a small placeholder pointing at the API is served instead
    assert page == dashboard.PLACEHOLDER
    assert "/api/v3/" in page


def test_status_answers_ok_without_a_key(api: Api) -> None:
    # When the status probe is called without a key
    reply = api.get("status/", key="")
    # Then it answers OK as text
    assert (reply.status, reply.text) == (200, "OK")


def test_status_fails_when_dynamodb_cannot_be_read(aws: Aws, api: Api) -> None:
    # Given the checks table is gone
    aws.dynamodb.delete_table(TableName=aws.checks_table)
    # When the status probe is called
    reply = api.get("status/", key="")
    # Then it reports the outage rather than OK
    assert (reply.status, reply.text) == (503, "DynamoDB is unreachable")


def test_committed_openapi_json_is_current() -> None:
    # Given the committed spec (regenerate with `make openapi`)
    committed = (ROOT / "openapi.json").read_text()
    # When it is generated from the routes now
    # Then they are the same
    assert committed == openapi_document() + "\n", "openapi.json is stale: run `make openapi`"


def test_openapi_json_is_served_without_a_key(api: Api) -> None:
    # When the spec is fetched without a key
    reply = api.get("openapi.json", key="")
    # Then it is the generated document, listing every endpoint
    assert reply.status == 200
    spec = reply.json()
    assert spec == json.loads(openapi_document())
    assert {"/api/v3/checks/", "/api/v3/checks/{check}/flips/", "/api/v3/channels/"} <= set(
        spec["paths"]
    )
