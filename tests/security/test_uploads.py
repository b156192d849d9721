"""Uploads are copied into WORKSPACE/uploads under sanitised names; no name can leave that folder."""

import pytest

from studio.workspace import Workspace, safe_name

NASTY = ["../../x", "..\\..\\x", "/etc/passwd", "C:\\Windows\\system32\\x.dll", "", " ", ".", "..", "...", "~",
         "~/.ssh/id_rsa", ".bashrc", "专利数据.jsonl", "données été.csv", "a\x00b.txt", "line\nbreak.txt", "-rf",
         "x" * 400 + ".jsonl", "%2e%2e%2fx", "..%2F..%2Fx", "\u202etxt.exe", "CON", "a/../../b.jsonl"]


@pytest.mark.parametrize("name", NASTY)
def test_a_sanitised_name_stays_in_its_folder(tmp_path, name):
    ws = Workspace.open(tmp_path / "ws")
    cleaned = safe_name(name)
    assert cleaned and len(cleaned) <= 128 and cleaned not in (".", "..")
    assert "/" not in cleaned and "\\" not in cleaned and "\x00" not in cleaned and not cleaned.startswith(".")
    assert (ws.uploads / cleaned).resolve().parent == ws.uploads


def test_staged_uploads_land_in_the_workspace(tmp_path):
    from studio.ui.data import stage_uploads

    ws = Workspace.open(tmp_path / "ws")
    cache = tmp_path / "gradio-cache"  # where Gradio keeps an upload before a handler sees it
    names = ["a\\..\\..\\escape.jsonl", ".hidden.jsonl", "专利.jsonl", "same.jsonl", "line\nbreak.txt", "x" * 250]
    temps = []
    for i, name in enumerate(names + ["same.jsonl"]):
        folder = cache / str(i)
        folder.mkdir(parents=True)
        temps.append(folder / name)
        temps[-1].write_text(f"{i}\n", encoding="utf-8")
    staged, originals = stage_uploads(ws, [str(t) for t in temps])
    assert all(p.parent == ws.uploads and p.resolve().parent == ws.uploads for p in staged)
    assert [p.name for p in staged][:5] == ["escape.jsonl", "hidden.jsonl", "upload.jsonl", "same.jsonl", "line_break.txt"]
    assert staged[-1].name == "same-2.jsonl"  # never overwrites an earlier upload
    assert [p.read_text() for p in staged] == [f"{i}\n" for i in range(len(temps))]
    assert originals[str(staged[2])] == "专利.jsonl"  # the UI still shows the user's own name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gradio-cache", "ws"]  # nothing written elsewhere
