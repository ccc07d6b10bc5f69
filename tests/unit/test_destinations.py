"""Which addresses an alert may be sent to: no loopback, metadata, private or odd addresses,
however the URL spells them and whatever its name resolves to. Resolvers are stubs: no DNS."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from cronbeat.channels.transport import (
    UnsafeDestination,
    check_destination,
    refused_address,
    resolve_host,
)


@dataclass
class Resolving:
    """A stub resolver answering `addresses` for any name, and the lookups it was asked for."""

    addresses: tuple[str, ...]
    asked: list[tuple[str, int]] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        return list(self.addresses)


def never_resolve(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host!r} must be judged without a lookup")


def not_found(host: str, port: int) -> list[str]:
    raise OSError("Name or service not known")


@pytest.mark.parametrize(
    ("ip", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("::ffff:169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("10.0.0.1", "private"),
        ("10.255.255.255", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("::ffff:10.1.2.3", "private"),
        ("100.64.0.1", "private"),
        ("100.127.255.254", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
    ],
)
def test_internal_addresses_are_refused_with_the_reason(ip: str, reason: str) -> None:
    # Given an address the deployment must not reach, When judged
    # Then it is refused, naming why
    assert refused_address(ip) == reason


@pytest.mark.parametrize(
    "ip", ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111"]
)
def test_public_addresses_are_allowed(ip: str) -> None:
    # Given a public address (some just outside a private range), When judged
    # Then nothing is refused
    assert refused_address(ip) is None


def test_a_name_resolving_to_a_public_address_is_allowed_and_returned() -> None:
    # Given a name that resolves to one public address
    resolve = Resolving(("93.184.216.34",))
    # When the destination is checked
    addresses = check_destination(
        "https://hooks.example.com/x?token=1", allow_private=False, resolve=resolve
    )
    # Then that address may be used, and the name was looked up once with the scheme's port
    assert addresses == ["93.184.216.34"]
    assert resolve.asked == [("hooks.example.com", 443)]


@pytest.mark.parametrize(
    ("resolved", "message"),
    [
        (("169.254.169.254",), "url resolves to a link-local address (169.254.169.254)"),
        (("10.0.0.1",), "url resolves to a private address (10.0.0.1)"),
        (("93.184.216.34", "10.0.0.1"), "url resolves to a private address (10.0.0.1)"),
        (("2606:4700::1111", "::1"), "url resolves to a loopback address (::1)"),
    ],
)
def test_a_name_resolving_to_any_internal_address_is_refused(
    resolved: tuple[str, ...], message: str
) -> None:
    # Given a name whose addresses include an internal one (possibly behind a public one)
    resolve = Resolving(resolved)
    # When the destination is checked
    with pytest.raises(UnsafeDestination) as refused:
        check_destination(
            "http://rebind.example.com:8080/secret-path", allow_private=False, resolve=resolve
        )
    # Then it is refused, naming the reason and address but not the URL
    assert str(refused.value) == message
    assert "secret-path" not in str(refused.value)
    assert "rebind" not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:8080/", "url resolves to a loopback address (127.0.0.1)"),
        ("http://[::1]/", "url resolves to a loopback address (::1)"),
        ("http://[::ffff:127.0.0.1]/", "url resolves to a loopback address (::ffff:7f00:1)"),
        (
            "http://169.254.169.254/latest/",
            "url resolves to a link-local address (169.254.169.254)",
        ),
        ("https://192.168.0.10/", "url resolves to a private address (192.168.0.10)"),
        ("http://0.0.0.0:80/", "url resolves to an unspecified address (0.0.0.0)"),
        ("http://localhost:9000/", "url resolves to a loopback address (localhost)"),
        ("http://LocalHost./", "url resolves to a loopback address (localhost)"),
        ("http://api.localhost/", "url resolves to a loopback address (localhost)"),
    ],
)
def test_ip_literals_and_localhost_names_are_judged_without_a_lookup(
    url: str, message: str
) -> None:
    # Given a URL whose host is an address or a localhost name, When checked
    with pytest.raises(UnsafeDestination) as refused:
        check_destination(url, allow_private=False, resolve=never_resolve)
    # Then it is refused without resolving anything
    assert str(refused.value) == message


def test_a_public_ip_literal_is_allowed_without_a_lookup() -> None:
    # Given a URL to a public address, When checked
    addresses = check_destination(
        "https://93.184.216.34/hook", allow_private=False, resolve=never_resolve
    )
    # Then that very address is returned
    assert addresses == ["93.184.216.34"]


def test_a_name_that_does_not_resolve_is_left_to_the_caller() -> None:
    # Given a name with no address, When checked
    # Then the lookup's OSError reaches the caller (a delivery retries, the API accepts)
    with pytest.raises(OSError, match="not known"):
        check_destination("https://gone.example.com/", allow_private=False, resolve=not_found)
    empty = Resolving(())
    with pytest.raises(OSError, match="no address"):
        check_destination("https://empty.example.com/", allow_private=False, resolve=empty)


@pytest.mark.parametrize(
    ("url", "resolved"),
    [
        ("http://hooks.internal:8080/", ("10.0.0.1", "169.254.169.254")),
        ("http://localhost:9000/", ("127.0.0.1",)),
        ("http://127.0.0.1:9000/", ()),
    ],
)
def test_allow_private_refuses_nothing(url: str, resolved: tuple[str, ...]) -> None:
    # Given a deployment that allows private targets (local mode)
    resolve = Resolving(resolved)
    # When internal destinations are checked
    addresses = check_destination(url, allow_private=True, resolve=resolve)
    # Then they are returned for connecting, a literal as itself
    assert addresses == (list(resolved) or ["127.0.0.1"])


def test_the_system_resolver_answers_a_literal_and_refuses_a_name_idna_cannot_encode() -> None:
    # Given the default resolver (neither case sends a DNS query)
    # When it resolves an IPv4 literal, Then the literal comes back once
    assert resolve_host("127.0.0.1", 80) == ["127.0.0.1"]
    # When a label is too long to encode, Then it is an OSError like any unresolvable name
    with pytest.raises(OSError, match="cannot be encoded"):
        resolve_host("a" * 64 + ".example.com", 443)
