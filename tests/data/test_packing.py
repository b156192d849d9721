"""Packed rows give each example the loss it has alone; padded batches pad where they should."""

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoConfig, LlamaForCausalLM

from studio.data.packing import group_rows, mask_kind_for, pack_collate, pad_collate

LENGTHS = [7, 13, 5, 20]  # packed at MAX_LENGTH by next-fit: rows [7, 13, 5] (25 tokens) and [20] (+5 padding)
MAX_LENGTH = 32
PAD_ID = 0
PROMPT = 2  # the first tokens of each example are context only (label -100), like a chat prompt


def _examples(vocab_size: int) -> list[dict]:
    generator = torch.Generator().manual_seed(0)
    examples = []
    for n in LENGTHS:
        ids = torch.randint(1, vocab_size, (n,), generator=generator).tolist()
        examples.append({"input_ids": ids, "labels": [-100] * PROMPT + ids[PROMPT:]})
    return examples


def _token_losses(model, batch: dict) -> torch.Tensor:
    """[B, L] loss of each label position (0 where -100), from logits shifted the way the causal-LM loss does."""
    with torch.no_grad():
        logits = model(**{k: v for k, v in batch.items() if k != "labels"}, use_cache=False).logits
    losses = F.cross_entropy(logits[:, :-1].transpose(1, 2), batch["labels"][:, 1:], reduction="none")
    return F.pad(losses, (1, 0))  # realign to label positions: position 0 has nothing predicting it


def _unpacked_losses(model, examples: list[dict]) -> list[float]:
    return [_token_losses(model, pad_collate([ex], PAD_ID))[0].sum().item() for ex in examples]


def _packed_losses(model, rows: list[list[dict]], batch: dict) -> list[float]:
    """Per-example loss sums of a packed batch, each example's label positions summed by its segment."""
    losses = _token_losses(model, batch)
    out = []
    for r, row in enumerate(rows):
        start = 0
        for ex in row:
            out.append(losses[r, start:start + len(ex["input_ids"])].sum().item())
            start += len(ex["input_ids"])
    return out


@pytest.fixture(scope="module")
def examples(tiny_model_dir) -> list[dict]:
    return _examples(AutoConfig.from_pretrained(tiny_model_dir).vocab_size)


@pytest.fixture(scope="module")
def rows(examples) -> list[list[dict]]:
    rows = group_rows(examples, MAX_LENGTH)
    assert [[len(ex["input_ids"]) for ex in row] for row in rows] == [[7, 13, 5], [20]]
    return rows


def _model(tiny_model_dir, attn_implementation: str):
    return LlamaForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=attn_implementation,
                                            dtype=torch.float32).eval()


@pytest.mark.parametrize("attn_implementation", ["sdpa", "eager"])
def test_packed_losses_equal_unpacked(tiny_model_dir, examples, rows, attn_implementation):
    model = _model(tiny_model_dir, attn_implementation)
    batch = pack_collate(rows, PAD_ID, mask_kind_for(attn_implementation))
    packed = torch.tensor(_packed_losses(model, rows, batch))
    alone = torch.tensor(_unpacked_losses(model, examples))
    assert (alone > 0).all()
    assert torch.allclose(packed, alone, rtol=0, atol=1e-4), (packed - alone).abs().max()


def test_position_restarts_alone_isolate_examples_without_a_mask(tiny_model_dir, examples, rows):
    """mask_kind "none" (flash_attention_2): transformers finds the examples from position_ids restarting at 0."""
    model = _model(tiny_model_dir, "sdpa")
    batch = pack_collate(rows, PAD_ID, "none")
    assert "attention_mask" not in batch
    packed = torch.tensor(_packed_losses(model, rows, batch))
    assert torch.allclose(packed, torch.tensor(_unpacked_losses(model, examples)), rtol=0, atol=1e-4)


def test_without_the_block_mask_packed_losses_differ(tiny_model_dir, examples, rows):
    """A plain padding mask and running positions let later examples see earlier ones: the check above can fail."""
    model = _model(tiny_model_dir, "sdpa")
    batch = pack_collate(rows, PAD_ID, "none")
    attention_mask = torch.ones_like(batch["input_ids"])
    attention_mask[1, 20:] = 0  # padding of the second row
    naive = {"input_ids": batch["input_ids"], "labels": batch["labels"], "attention_mask": attention_mask}
    packed = torch.tensor(_packed_losses(model, rows, naive))
    alone = torch.tensor(_unpacked_losses(model, examples))
    assert abs(packed[0] - alone[0]) < 1e-4  # the first example of a row has nothing before it
    assert (packed[1:3] - alone[1:3]).abs().min() > 1e-3


def test_labels_are_ignored_at_each_example_start_and_on_padding(examples, rows):
    batch = pack_collate(rows, PAD_ID, "bool")
    labels, ids, positions = batch["labels"], batch["input_ids"], batch["position_ids"]
    assert labels.shape == ids.shape == positions.shape == (2, 25)
    for start in (0, 7, 20):  # where examples begin in row 0
        assert labels[0, start] == -100 and positions[0, start] == 0
    assert labels[0, 7 + PROMPT:20].tolist() == examples[1]["input_ids"][PROMPT:]
    assert positions[0, 7:20].tolist() == list(range(13))
    assert (labels[1, 20:] == -100).all() and (ids[1, 20:] == PAD_ID).all()
    assert positions[1].tolist() == list(range(20)) + list(range(5))  # padding is a segment of its own


def test_bool_mask_is_block_diagonal_causal(rows):
    mask = pack_collate(rows, PAD_ID, "bool")["attention_mask"]
    assert mask.shape == (2, 1, 25, 25) and mask.dtype == torch.bool
    row = mask[0, 0]
    assert row[3, 0] and row[3, 3] and not row[3, 4]  # causal inside the first example
    assert row[10, 7] and not row[10, 6]  # the second example does not see the first
    assert row[24, 20] and not row[24, 19] and not row[24, 0]  # nor the third the second or the first
    assert torch.equal(row[:7, :7], torch.ones(7, 7, dtype=torch.bool).tril())
    pad = mask[1, 0]
    assert pad[19, :20].all()  # the 20-token example sees all of itself
    assert torch.equal(pad[20:, :], torch.eye(25, dtype=torch.bool)[20:])  # padding sees itself only
    assert not pad[:20, 20:].any()


def test_additive_mask_matches_the_bool_mask(rows):
    allowed = pack_collate(rows, PAD_ID, "bool")["attention_mask"]
    additive = pack_collate(rows, PAD_ID, "additive")["attention_mask"]
    assert additive.dtype == torch.float32 and additive.shape == allowed.shape
    assert (additive[allowed] == 0).all()
    assert (additive[~allowed] == torch.finfo(torch.float32).min).all()


def test_mask_kind_per_attention_implementation():
    assert [mask_kind_for(a) for a in ("sdpa", "eager", "flash_attention_2")] == ["bool", "additive", "none"]
    with pytest.raises(ValueError, match="flex_attention"):
        mask_kind_for("flex_attention")
    with pytest.raises(ValueError, match="mask_kind"):
        pack_collate([[{"input_ids": [1], "labels": [1]}]], PAD_ID, "causal")


def test_pad_collate_pads_right_without_loss(examples):
    batch = pad_collate(examples[:3], PAD_ID)
    assert {k: tuple(v.shape) for k, v in batch.items()} == {k: (3, 13) for k in ("input_ids", "labels",
                                                                                 "attention_mask")}
    assert batch["attention_mask"].dtype == torch.long
    assert batch["attention_mask"].sum(1).tolist() == [7, 13, 5]
    assert batch["input_ids"][0].tolist() == examples[0]["input_ids"] + [PAD_ID] * 6
    assert batch["labels"][2].tolist() == examples[2]["labels"] + [-100] * 8
