"""Dataset versions: whole or absent, never overwritten, parent recorded."""

import json
import threading

import pytest

from studio.data.versions import list_datasets, list_versions, resolve_dataset, save_version
from studio.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    return Workspace.open(tmp_path / "ws")


def test_versions_count_up_and_record_their_parent(ws):
    first = save_version(ws, "patents", [{"id": "a", "text": "步骤1"}], operation="chunk", parameters={"max": 400})
    second = save_version(ws, "patents", [], operation="dedup", parameters={}, parent=first.ref,
                          removed=[{"id": "a", "reason": "exact", "duplicate_of": "b"}])
    assert (first.ref, second.ref) == ("patents@v1", "patents@v2")
    assert second.meta()["parent"] == "patents@v1" and second.meta()["counts"] == {"records": 0, "removed": 1}
    assert json.loads(first.data_file.read_text(encoding="utf-8")) == {"id": "a", "text": "步骤1"}
    assert [v.version for v in list_versions(ws, "patents")] == ["v1", "v2"]
    assert resolve_dataset(ws, "patents").version == "v2" and resolve_dataset(ws, "patents@v1") == first
    assert [d.ref for d in list_datasets(ws)] == ["patents@v2"]


def test_a_failing_writer_leaves_no_version_behind(ws):
    def broken():
        yield {"id": "a"}
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save_version(ws, "x", broken(), operation="chunk", parameters={})
    assert list_versions(ws, "x") == [] and list((ws.datasets / "x").iterdir()) == []


def test_concurrent_saves_get_distinct_versions(ws):
    threads = [threading.Thread(target=save_version, args=(ws, "c", [{"id": str(i)}]),
                                kwargs={"operation": "t", "parameters": {}}) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [v.version for v in list_versions(ws, "c")] == [f"v{i}" for i in range(1, 9)]


@pytest.mark.parametrize("bad", ["../x", "", "a/b", ".hidden"])
def test_names_that_could_escape_are_refused(ws, bad):
    with pytest.raises(ValueError, match="dataset name"):
        save_version(ws, bad, [], operation="t", parameters={})


def test_unknown_versions_say_what_exists(ws):
    save_version(ws, "d", [], operation="t", parameters={})
    with pytest.raises(FileNotFoundError, match="has no version 'v7'; it has v1"):
        resolve_dataset(ws, "d@v7")


def test_dataset_references_resolve_to_files(ws, tmp_path):
    from studio.assets import INTENT_CHAT_FILE
    from studio.data.versions import dataset_file

    saved = save_version(ws, "mine", [{"id": "a", "text": "x"}], operation="t", parameters={})
    assert dataset_file(ws, "bundled:intent_chat") == INTENT_CHAT_FILE
    assert dataset_file(ws, "mine@v1") == saved.data_file == dataset_file(ws, "mine")
    path = tmp_path / "d.jsonl"
    path.write_text("{}\n")
    assert dataset_file(ws, str(path)) == path
    with pytest.raises(FileNotFoundError, match="no such file, workspace dataset or bundled sample"):
        dataset_file(ws, str(tmp_path / "missing.jsonl"))
