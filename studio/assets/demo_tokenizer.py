"""The demo model's tokenizer: byte-level BPE trained on the bundled samples, its special tokens and chat template.

Byte-level means every UTF-8 string round-trips (Chinese, English, emoji, JSON punctuation) with no unknown
tokens, which the studio relies on when it counts tokens for chunking and scores perplexity.
"""

from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"
SYSTEM, USER, ASSISTANT, END = "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"
CHAT_MARKERS = [SYSTEM, USER, ASSISTANT, END]
# Order fixes the ids: <s>=0, </s>=1, <pad>=2, <unk>=3, then the chat markers 4..7.
SPECIAL_TOKENS = [BOS, EOS, PAD, UNK, *CHAT_MARKERS]

# CJK Unified Ideographs, extension A and compatibility ideographs.
HAN_CHARACTER = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"

# Our own format. Each turn is `<|role|>content<|end|>` followed by a newline; the assistant's content and its
# closing <|end|> sit inside {% generation %} so `return_assistant_tokens_mask=True` marks exactly the tokens the
# model must learn to produce, including the <|end|> that generation stops on. The generation prompt is the bare
# assistant marker, so the model's first generated token is the first token of the answer.
CHAT_TEMPLATE = (
    "{{- bos_token -}}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}"
    "{{- '<|system|>' + message['content'] + '<|end|>' + '\\n' -}}"
    "{%- elif message['role'] == 'user' -%}"
    "{{- '<|user|>' + message['content'] + '<|end|>' + '\\n' -}}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{{- '<|assistant|>' -}}"
    "{%- generation -%}{{- message['content'] + '<|end|>' -}}{%- endgeneration -%}"
    "{{- '\\n' -}}"
    "{%- else -%}"
    "{{- raise_exception('Unsupported role: ' + message['role'] + ' (use system, user or assistant)') -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|assistant|>' -}}{%- endif -%}"
)


def train_bpe(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> Tokenizer:
    """Train a byte-level BPE tokenizer on `texts`; same texts in the same order give the same vocab and merges."""
    tokenizer = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    # No normaliser: any normalisation (NFKC, lowercasing) would break decode(encode(x)) == x.
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            # GPT-2's regex treats a run of Han characters as one word, so BPE would learn whole memorised
            # phrases as single tokens; one Han character per piece keeps Chinese at about a token per character.
            pre_tokenizers.Split(Regex(HAN_CHARACTER), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=SPECIAL_TOKENS,
        # All 256 byte symbols are in the base vocab, so text never seen in training still encodes.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(list(texts), trainer=trainer)
    return tokenizer


def wrap_for_transformers(tokenizer: Tokenizer, model_max_length: int) -> PreTrainedTokenizerFast:
    """The transformers fast tokenizer saved with the model: special tokens named, BOS added, our chat template."""
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        extra_special_tokens=CHAT_MARKERS,
        # Like Llama: plain encoding starts with <s>, matching how the pre-training documents were fed.
        add_bos_token=True,
        add_eos_token=False,
        # The default clean-up rewrites " ." and " 's", which would break exact round trips.
        clean_up_tokenization_spaces=False,
        model_max_length=model_max_length,
        padding_side="right",
        chat_template=CHAT_TEMPLATE,
    )
