"""A small mixed upload for the perplexity tests: chats (role/content), alpaca instruction pairs, plain text, in
English and Chinese, with one garbled answer — the shape of a user's own data, written as one JSONL file."""

from __future__ import annotations

import json
from pathlib import Path

QUESTIONS = ["How do I reset my password?", "我的订单什么时候发货？", "Can I change the delivery address?",
             "退货需要多长时间？"]
ANSWERS = ["Open Settings, choose Security and press Reset password.", "您的订单将在48小时内发货。",
           "Yes, until the parcel leaves the warehouse.", "退款会在3到5个工作日内原路返回。"]
TEXTS = ["本发明涉及一种数据压缩方法，用于图像的无损编码。", "A method for lossless image compression.",
         "行缓冲区上设有7个定位孔，相邻定位孔的间距为2.4毫米。"]
N_CHAT, N_ALPACA, N_TEXT = 6, 4, 3


def mixed_rows() -> list[dict]:
    rows = [{"id": f"chat{i}", "messages": [{"role": "system", "content": "You are a support agent."},
                                            {"role": "user", "content": QUESTIONS[i % 4]},
                                            {"role": "assistant", "content": ANSWERS[i % 4]}]}
            for i in range(N_CHAT - 1)]
    rows.append({"id": "garbled", "messages": [{"role": "user", "content": QUESTIONS[0]},
                                               {"role": "assistant", "content": "ÒÖ´óÌå»ý»ìÄýÍÁ zq xv kkp"}]})
    rows += [{"id": f"alp{i}", "instruction": ["把下面的句子翻译成英文", "Summarise in one line"][i % 2],
              "input": ["今天天气很好。", "The meeting moved to Friday because the room was booked."][i % 2],
              "output": ["The weather is nice today.", "Meeting moved to Friday."][i % 2]} for i in range(N_ALPACA)]
    rows += [{"id": f"txt{i}", "text": TEXTS[i]} for i in range(N_TEXT)]
    return rows


def write_mixed(path: Path) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in mixed_rows()), encoding="utf-8")
    return path


def without_chat_template(model_dir: Path, dest: Path) -> Path:
    """A copy of a model folder whose tokenizer has no chat template, as a base model's tokenizer has none."""
    import shutil

    from transformers import AutoTokenizer

    shutil.copytree(model_dir, dest)
    tokenizer = AutoTokenizer.from_pretrained(dest)
    tokenizer.chat_template = None
    tokenizer.save_pretrained(dest)
    (dest / "chat_template.jinja").unlink(missing_ok=True)
    return dest
