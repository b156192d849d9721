"""Who can reach the UI: loopback needs nothing; any other address, a host name or a share link needs a password;
the upload limit and the allowed folders are parsed once, at start."""

import pytest

from studio.cli import build_parser
from studio.launch import DEFAULT_MAX_UPLOAD_MB, LaunchError, server_options


@pytest.fixture(autouse=True)
def no_environment(monkeypatch):
    for name in ("STUDIO_AUTH", "STUDIO_ALLOWED_PATHS", "STUDIO_MAX_UPLOAD_MB"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]", "192.168.1.20", "10.0.0.5", "fe80::1", "my-workstation",
                                  "studio.example.org", "::ffff:127.0.0.1", " 127.0.0.1"])
def test_reachable_hosts_without_a_password_are_refused(host):
    with pytest.raises(LaunchError, match="reachable from other machines.*--auth USER:PASSWORD.*STUDIO_AUTH"):
        server_options(host, 7860, False, None)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]"])
def test_share_links_need_a_password_even_on_loopback(host):
    assert server_options(host, 7860, False, None).auth is None
    with pytest.raises(LaunchError, match="--share publishes the UI on the internet"):
        server_options(host, 7860, True, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "my-workstation"])
def test_a_password_from_flag_or_environment_opens_them(host, monkeypatch):
    assert server_options(host, 7860, True, "ann:pw").auth == ("ann", "pw")
    monkeypatch.setenv("STUDIO_AUTH", "bob:pw2")
    assert server_options(host, 7860, True, None).auth == ("bob", "pw2")


def test_the_password_is_never_in_the_options_repr():
    options = server_options("0.0.0.0", 7860, False, "ann:Sup3r-secret")
    assert "Sup3r-secret" not in repr(options) and "Sup3r-secret" not in str(options)


def test_upload_limit_from_flag_environment_or_default(monkeypatch):
    assert server_options("127.0.0.1", 7860, False, None).max_upload_mb == DEFAULT_MAX_UPLOAD_MB == 2048
    monkeypatch.setenv("STUDIO_MAX_UPLOAD_MB", "64")
    assert server_options("127.0.0.1", 7860, False, None).max_upload_mb == 64
    assert server_options("127.0.0.1", 7860, False, None, max_upload_mb=5).max_upload_mb == 5
    with pytest.raises(LaunchError, match="--max-upload-mb: 0 MB"):
        server_options("127.0.0.1", 7860, False, None, max_upload_mb=0)
    monkeypatch.setenv("STUDIO_MAX_UPLOAD_MB", "lots")
    with pytest.raises(LaunchError, match="STUDIO_MAX_UPLOAD_MB: 'lots' is not a whole number"):
        server_options("127.0.0.1", 7860, False, None)


def test_ui_flags_reach_the_options(tmp_path):
    args = build_parser().parse_args(["ui", "--allow-path", str(tmp_path), "--allow-path", str(tmp_path),
                                      "--max-upload-mb", "7"])
    options = server_options(args.host, args.port, args.share, args.auth, tuple(args.allow_path), args.max_upload_mb)
    assert options.allowed_paths == (tmp_path.resolve(),) and options.max_upload_mb == 7
    with pytest.raises(LaunchError, match="no such folder"):
        server_options("127.0.0.1", 7860, False, None, (str(tmp_path / "missing"),))


def test_the_ui_command_refuses_before_starting(capsys):
    from studio.cli import main

    assert main(["ui", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "error: --host 0.0.0.0 is reachable from other machines" in err
