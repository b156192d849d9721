"""Workspace paths: names that cannot escape, writes that cannot be half done."""

import pytest

import json

from studio.workspace import Workspace, atomic_write_jsonl, atomic_write_text, safe_file_name, safe_name


@pytest.mark.parametrize("name, expected", [
    ("../../x", "x"), ("..\\..\\evil.jsonl", "evil.jsonl"), ("/etc/passwd", "passwd"), ("..", "file"),
    ("  ", "file"), (".hidden", "hidden"), ("data set (v2).csv", "data_set_v2_.csv"), ("专利.jsonl", "jsonl"),
    ("café.txt", "cafe.txt"),
])
def test_safe_name_stays_in_its_folder(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name, expected", [
    ("客服对话.json", "upload.json"), ("数据 v2.JSONL", "v2.JSONL"), ("data set (v2).csv", "data_set_v2.csv"),
    ("../../专利.jsonl", "upload.jsonl"), (".env", "env"), ("notes", "notes"), ("a.b.tsv", "a.b.tsv"),
])
def test_an_upload_keeps_its_extension_whatever_its_name(name, expected):
    # The extension says how a file is read: a Chinese name once became `json`, an unreadable file.
    assert safe_file_name(name) == expected


def test_workspace_creates_its_layout(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    assert all((ws.root / d).is_dir() for d in ("datasets", "reports", "runs", "uploads"))
    assert ws.root.is_absolute()


def test_workspace_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    assert Workspace.open().root == (tmp_path / "home").resolve()


def test_inside_refuses_paths_outside_the_workspace(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    assert ws.inside(ws.runs / "a") == ws.runs / "a"
    with pytest.raises(ValueError, match="outside the workspace"):
        ws.inside(ws.root / ".." / "elsewhere")
    (ws.root / "link").symlink_to(tmp_path)
    with pytest.raises(ValueError, match="outside the workspace"):
        ws.inside(ws.root / "link" / "x")


def test_atomic_write_leaves_the_old_file_when_it_fails(tmp_path):
    target = tmp_path / "status.json"
    atomic_write_text(target, "old")

    with pytest.raises(TypeError):
        atomic_write_text(target, 12345)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]


def test_jsonl_written_whole_or_not_at_all(tmp_path):
    target = tmp_path / "out.jsonl"
    assert atomic_write_jsonl(target, [{"text": "步骤1"}, {"text": "b"}]) == 2
    assert [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()] == [
        {"text": "步骤1"}, {"text": "b"}]

    def failing():
        yield {"text": "first"}
        raise RuntimeError("reader broke half way")

    with pytest.raises(RuntimeError):
        atomic_write_jsonl(target, failing())
    assert json.loads(target.read_text(encoding="utf-8").splitlines()[0]) == {"text": "步骤1"}
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
