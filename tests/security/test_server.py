"""The launched app over HTTP: what /gradio_api/file= serves, the upload limit, the login, and what it prints.

One real `python app.py` process serves every test here (about 15 s to start on a laptop CPU).
"""

from __future__ import annotations

import httpx
import pytest

from tests.app_process import ROOT, AppDidNotStart, app_process

USER, PASSWORD = "ann", "Corr3ct-Horse-Battery"
TOKEN = "hf_" + "SecurityTestToken0123456789abcd"
LIMIT_MB = 1


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("server")
    ws = base / "ws"
    files = {"report": ws / "reports" / "notes" / "v1" / "dedup.json", "log": ws / "runs" / "r1" / "worker.log",
             "upload": ws / "uploads" / "raw.jsonl", "workspace_top": ws / "settings-secret.json"}
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"ok": true}\n')
    files["link"] = ws / "reports" / "notes" / "v1" / "passwd.json"
    files["link"].symlink_to("/etc/passwd")
    out, err = base / "stdout.txt", base / "stderr.txt"
    try:
        with app_process(ws, "--auth", f"{USER}:{PASSWORD}", "--max-upload-mb", str(LIMIT_MB),
                         env={"HF_TOKEN": TOKEN}, log=out, stderr_log=err) as started:
            yield {"url": started["url"], "files": files, "proc": started["process"], "out": out, "err": err}
    except AppDidNotStart as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def client(app):
    with httpx.Client(base_url=app["url"], timeout=30) as session:
        wrong = session.post("/login", data={"username": USER, "password": "wrong-" + PASSWORD})
        assert wrong.status_code >= 400
        assert session.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200
        yield session


def fetch(client, path) -> httpx.Response:
    return client.get(f"/gradio_api/file={path}")


def test_nothing_is_served_without_the_login(app):
    assert httpx.get(f"{app['url']}/gradio_api/file={app['files']['report']}").status_code in (401, 403)
    assert httpx.get(f"{app['url']}/config").status_code in (401, 403)


def test_download_folders_are_served(client, app):
    response = fetch(client, app["files"]["report"])
    assert response.status_code == 200 and response.json() == {"ok": True}


@pytest.mark.parametrize("where", ["/etc/passwd", str(ROOT / "studio" / "launch.py"), str(ROOT / "app.py"),
                                   "log", "upload", "workspace_top", "link", "../../../../etc/passwd",
                                   "%2Fetc%2Fpasswd"])
def test_nothing_else_is_served(client, app, where):
    path = app["files"].get(where, where)
    response = fetch(client, path)
    assert response.status_code in (403, 404), (where, response.status_code)
    assert "root:" not in response.text and '"ok"' not in response.text


def upload(client, size: int) -> httpx.Response:
    return client.post("/gradio_api/upload", files={"files": ("big.jsonl", b"x" * size, "application/json")})


def test_an_upload_within_the_limit_is_taken(client):
    response = upload(client, 10_000)
    assert response.status_code == 200 and response.json()[0].endswith("big.jsonl")


def test_an_upload_over_the_limit_is_refused_with_the_fix(client):
    response = upload(client, LIMIT_MB * 1024 * 1024 + 10_000)
    assert response.status_code == 413
    assert response.text.startswith(f"This file is larger than the upload limit of {LIMIT_MB} MB.")
    assert "--max-upload-mb" in response.text and "STUDIO_MAX_UPLOAD_MB" in response.text


def test_the_limit_reaches_the_browser(client):
    assert client.get("/config").json()["max_file_size"] == LIMIT_MB * 1024 * 1024


def test_no_password_or_token_in_the_output(app, client):
    fetch(client, "/etc/passwd")  # a refused request, a login failure and an upload have all happened by now
    app["proc"].terminate()
    app["proc"].wait(timeout=15)
    printed = app["out"].read_text(errors="replace") + app["err"].read_text(errors="replace")
    assert "Fine-Tune Studio on http://127.0.0.1" in printed and f"uploads up to {LIMIT_MB} MB" in printed
    for secret in (PASSWORD, TOKEN):
        assert secret not in printed
