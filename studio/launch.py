"""Server options of the web UI and the rules that keep it private unless the user says otherwise."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass


class LaunchError(ValueError):
    """A server option that must be fixed before the UI starts."""


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    auth: tuple[str, str] | None = None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def parse_auth(value: str | None, source: str = "--auth") -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise LaunchError(f"{source}: expected USER:PASSWORD with both parts non-empty")
    return user, password


def server_options(host: str, port: int, share: bool, auth: str | None) -> ServerOptions:
    """Check the options; anything reachable from other machines must have a password."""
    credentials = parse_auth(auth, "--auth") or parse_auth(os.environ.get("STUDIO_AUTH"), "STUDIO_AUTH")
    if not 0 < port < 65536:
        raise LaunchError(f"--port: {port} is not a TCP port (1-65535)")
    if credentials is None and (share or not is_loopback(host)):
        reason = ("--share publishes the UI on the internet" if share
                  else f"--host {host} is reachable from other machines")
        raise LaunchError(f"{reason}, so it needs a password: add --auth USER:PASSWORD or set "
                          f"STUDIO_AUTH=USER:PASSWORD (or keep the default --host 127.0.0.1)")
    return ServerOptions(host=host, port=port, share=share, auth=credentials)
