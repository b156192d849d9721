"""`python -m studio merge`: the merged model computes what base + adapter computes, and nothing is overwritten."""

import argparse

from studio.evaluate.merge import configure_parser, merge_adapter, run


def _merge(*argv) -> int:
    return run(configure_parser(argparse.ArgumentParser()).parse_args([str(a) for a in argv]))


def test_merged_logits_equal_base_plus_adapter(tiny_model_dir, random_adapter_dir, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "merged"
    assert _merge("--base", tiny_model_dir, "--adapter", random_adapter_dir, "--out", out) == 0
    assert (out / "config.json").is_file() and (out / "tokenizer_config.json").is_file()
    assert not (out / "adapter_config.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["merged"]  # no staging folder left behind

    ids = AutoTokenizer.from_pretrained(out)("明天6点叫醒我 wake me at 6", return_tensors="pt")["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    with torch.no_grad():
        plain = base(ids).logits
        adapted = PeftModel.from_pretrained(base, random_adapter_dir).eval()(ids).logits
        merged = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()(ids).logits
    assert (adapted - plain).abs().max() > 1e-2  # the adapter does change the model
    torch.testing.assert_close(merged, adapted, atol=1e-4, rtol=0)


def test_refuses_a_non_empty_folder_and_a_folder_without_an_adapter(tiny_model_dir, random_adapter_dir, tmp_path,
                                                                    capsys):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine", encoding="utf-8")
    assert _merge("--base", tiny_model_dir, "--adapter", random_adapter_dir, "--out", taken) == 2
    assert "not empty" in capsys.readouterr().err and (taken / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert _merge("--base", tiny_model_dir, "--adapter", tmp_path, "--out", tmp_path / "new") == 2
    assert "no adapter_config.json" in capsys.readouterr().err and not (tmp_path / "new").exists()


def test_merges_into_an_existing_empty_folder(tiny_model_dir, random_adapter_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert merge_adapter(str(tiny_model_dir), random_adapter_dir, empty) == empty
    assert (empty / "model.safetensors").is_file()


def test_a_missing_base_is_a_message_not_a_traceback(random_adapter_dir, tmp_path, capsys):
    assert _merge("--base", tmp_path / "nowhere", "--adapter", random_adapter_dir, "--out", tmp_path / "m") == 2
    assert "no such model folder" in capsys.readouterr().err
