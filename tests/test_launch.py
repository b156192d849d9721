"""Server options: private by default, a password for anything reachable from elsewhere."""

import pytest

from studio.launch import LaunchError, is_loopback, parse_auth, server_options


@pytest.mark.parametrize("host, expected", [
    ("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.org", False),
])
def test_loopback_detection(host, expected):
    assert is_loopback(host) is expected


def test_default_binds_loopback_without_auth(monkeypatch):
    monkeypatch.delenv("STUDIO_AUTH", raising=False)
    options = server_options("127.0.0.1", 7860, False, None)
    assert (options.host, options.auth, options.share) == ("127.0.0.1", None, False)


@pytest.mark.parametrize("host, share, fragment", [
    ("0.0.0.0", False, "--host 0.0.0.0 is reachable from other machines"),
    ("127.0.0.1", True, "--share publishes the UI"),
])
def test_exposure_without_a_password_is_refused(monkeypatch, host, share, fragment):
    monkeypatch.delenv("STUDIO_AUTH", raising=False)
    with pytest.raises(LaunchError, match=fragment) as info:
        server_options(host, 7860, share, None)
    assert "--auth USER:PASSWORD" in str(info.value)


def test_auth_from_flag_or_environment(monkeypatch):
    monkeypatch.delenv("STUDIO_AUTH", raising=False)
    assert server_options("0.0.0.0", 7860, False, "ann:s3cret:x").auth == ("ann", "s3cret:x")
    monkeypatch.setenv("STUDIO_AUTH", "bob:pw")
    assert server_options("0.0.0.0", 7860, True, None).auth == ("bob", "pw")


@pytest.mark.parametrize("value", ["nocolon", ":pw", "user:"])
def test_malformed_auth_is_refused(value):
    with pytest.raises(LaunchError, match="expected USER:PASSWORD"):
        parse_auth(value)


def test_port_must_be_a_tcp_port():
    with pytest.raises(LaunchError, match="--port: 70000"):
        server_options("127.0.0.1", 70000, False, None)
