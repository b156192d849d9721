"""Server options of the web UI and the rules that keep it private unless the user says otherwise."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from studio.paths import parse_allowed

DEFAULT_MAX_UPLOAD_MB = 2048  # one upload; large corpora are better copied into the workspace than uploaded
UPLOAD_ENV = "STUDIO_MAX_UPLOAD_MB"


class LaunchError(ValueError):
    """A server option that must be fixed before the UI starts."""


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    auth: tuple[str, str] | None = field(default=None, repr=False)  # never printed, even in a traceback
    allowed_paths: tuple[Path, ...] = ()  # folders besides the workspace the UI may open (--allow-path)
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB


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


def parse_upload_mb(value: int | str | None) -> int:
    """Megabytes per uploaded file: the flag, else $STUDIO_MAX_UPLOAD_MB, else the default."""
    source = "--max-upload-mb" if value is not None else UPLOAD_ENV
    raw = value if value is not None else os.environ.get(UPLOAD_ENV) or DEFAULT_MAX_UPLOAD_MB
    try:
        mb = int(raw)
    except ValueError:
        raise LaunchError(f"{source}: {raw!r} is not a whole number of megabytes") from None
    if mb < 1:
        raise LaunchError(f"{source}: {mb} MB; give at least 1")
    return mb


def server_options(host: str, port: int, share: bool, auth: str | None, allow_paths: tuple[str, ...] = (),
                   max_upload_mb: int | None = None) -> ServerOptions:
    """Check the options; anything reachable from other machines must have a password."""
    credentials = parse_auth(auth, "--auth") or parse_auth(os.environ.get("STUDIO_AUTH"), "STUDIO_AUTH")
    if not 0 < port < 65536:
        raise LaunchError(f"--port: {port} is not a TCP port (1-65535)")
    try:
        allowed = parse_allowed(list(allow_paths))
    except ValueError as exc:
        raise LaunchError(str(exc)) from None
    if credentials is None and (share or not is_loopback(host)):
        reason = ("--share publishes the UI on the internet" if share
                  else f"--host {host} is reachable from other machines")
        raise LaunchError(f"{reason}, so it needs a password: add --auth USER:PASSWORD or set "
                          f"STUDIO_AUTH=USER:PASSWORD (or keep the default --host 127.0.0.1)")
    return ServerOptions(host=host, port=port, share=share, auth=credentials, allowed_paths=allowed,
                         max_upload_mb=parse_upload_mb(max_upload_mb))
