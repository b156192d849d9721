"""What the Gradio server may hand out and take in: the folders downloads come from, the upload size limit and the
message a too-large upload gets.

Gradio serves a local file at /gradio_api/file=PATH only when PATH lies in `allowed_paths` (or in its own cache of
uploads and returned files), and it copies a file a handler returns into that cache only from `allowed_paths`, the
current directory or the temp folder, never from `blocked_paths`. So `allowed_paths` is just the workspace folders
the UI offers downloads from, plus recipes/ (the Configure tab's saved YAML); runs (logs, checkpoints, recipe copies),
uploads and everything else on the disk are not served. A new download button must write into one of these folders.
"""

from __future__ import annotations

from pathlib import Path

from studio.ui.i18n import tr
from studio.workspace import Workspace

MB = 1024 * 1024


def download_folders(ws: Workspace, recipes_dir: Path) -> list[Path]:
    """Where the UI's download buttons point: datasets, quality and eval reports, exports, votes, saved recipes."""
    return [ws.datasets, ws.reports, ws.root / "exports", ws.root / "votes", recipes_dir]


def upload_limit_message(limit_mb: int) -> str:
    return tr("This file is larger than the upload limit of {limit} MB. Copy it into the workspace instead, or "
              "restart the studio with --max-upload-mb N (or STUDIO_MAX_UPLOAD_MB=N) to accept larger uploads.",
              limit=limit_mb)


def launch_settings(ws: Workspace, recipes_dir: Path, max_upload_mb: int) -> dict:
    """Keyword arguments for `Blocks.launch` that limit what is served and how large an upload may be."""
    for folder in download_folders(ws, recipes_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return dict(allowed_paths=[str(p) for p in download_folders(ws, recipes_dir)],
                blocked_paths=[str(ws.uploads)],  # raw uploads are never handed back out
                max_file_size=max_upload_mb * MB,
                app_kwargs={"middleware": [_middleware(max_upload_mb)]})


def _middleware(limit_mb: int):
    from starlette.middleware import Middleware

    return Middleware(UploadLimitMessage, limit_mb=limit_mb)


class UploadLimitMessage:
    """ASGI middleware: Gradio refuses an upload over `max_file_size` with 413 and a message in bytes that does not
    say how to raise the limit; this replaces that body with `upload_limit_message`. Everything else passes as is.
    (The browser checks the size before sending and shows Gradio's own notice with the limit.)"""

    def __init__(self, app, limit_mb: int):
        self.app, self.limit_mb = app, limit_mb

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].endswith("/upload"):
            await self.app(scope, receive, send)
            return
        body = upload_limit_message(self.limit_mb).encode("utf-8")
        replacing = False

        async def send_reworded(message):
            nonlocal replacing
            if message["type"] == "http.response.start" and message["status"] == 413:
                replacing = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
                await send({**message, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            elif message["type"] == "http.response.body" and replacing:
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await self.app(scope, receive, send_reworded)
