"""A new user's own upload, written at test time: nothing here is a bundled sample or a fixture file.

Three files of the kinds people bring, each in the shape its tool exports it:
- `客服对话.json`: a ShareGPT export (a JSON array, `conversations` of `from`/`value` turns), Chinese customer service,
  two of the conversations exact copies of others (as exports often hold);
- `faq-gbk.csv`: instruction/output pairs saved by a spreadsheet in GBK, English and Chinese rows mixed;
- `handbook.md`: a long Markdown guide (headings, short paragraphs, a list, a code block) of about 3,000 words.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

PRODUCTS = ["扫地机器人", "空气净化器", "蓝牙耳机", "电热水壶", "智能手表", "投影仪", "电动牙刷", "加湿器"]
PROBLEMS = [("无法开机", "请先确认电源适配器已插好，长按电源键十秒钟后再试一次。"),
            ("充电很慢", "请使用原装充电器，并检查充电口是否有灰尘，必要时用软刷清理。"),
            ("连接不上手机", "请在手机设置里删除旧的配对记录，然后重新打开设备的配对模式。"),
            ("噪音变大", "请检查滤网和刷头是否需要更换，清理后噪音通常会明显降低。"),
            ("显示屏不亮", "请把亮度调到最高，如果仍然不亮，可以恢复出厂设置。"),
            ("想要退货", "收到商品七天内可以无理由退货，请在订单页面提交退货申请。")]
CITIES = ["北京", "上海", "广州", "成都", "杭州", "武汉"]

FAQ_EN = [("How do I reset my password?", "Open Settings, choose Account, then Reset password and follow the email."),
          ("Where can I download my invoice?", "Invoices are under Orders; pick the order and press Download PDF."),
          ("Can I change the delivery address after ordering?", "Yes, until the parcel ships: edit it on the order page."),
          ("Do you ship to Hong Kong?", "Yes. Delivery takes three to five working days and duties are included."),
          ("How long is the warranty?", "Two years for devices, six months for batteries and other consumables."),
          ("Can I pay in instalments?", "Orders above 500 yuan can be split into three or six monthly payments.")]
FAQ_ZH = [("发票什么时候开？", "订单确认收货后，电子发票会在二十四小时内发送到您的邮箱。"),
          ("可以修改订单吗？", "发货前可以在订单详情页修改规格和数量，发货后请联系客服。"),
          ("会员积分怎么用？", "每一百积分可以抵扣一元，结算时勾选使用积分即可。"),
          ("支持哪些付款方式？", "支持微信支付、支付宝、银行卡以及花呗分期。")]

TOPICS = ["Installing the studio", "Preparing your data", "Choosing a base model", "Training settings",
          "Reading the loss curve", "Evaluating the adapter", "Sharing results", "Troubleshooting"]
SENTENCES = ["Keep a copy of the raw export before you clean anything.",
             "Small, consistent examples teach more than a large pile of mixed ones.",
             "A learning rate that is too high shows up as a loss that jumps after warmup.",
             "Write down which data version each run used, so a result can be traced back.",
             "Long documents are split into fragments that keep their headings as context.",
             "When the evaluation loss rises while the training loss falls, the model memorises.",
             "Check a handful of rendered examples by eye before the first long run.",
             "The adapter is small: a few megabytes next to a base model of several gigabytes.",
             "Customers in different regions phrase the same request in very different words.",
             "Duplicates inflate the apparent size of a data set and skew the loss.",
             "Gradient accumulation trades time for memory and keeps the effective batch.",
             "Stop a run early when the curve is flat; resume it later from the last checkpoint."]


def sharegpt(rng: random.Random, n: int = 24) -> list[dict]:
    records = []
    for i in range(n):
        product, (problem, answer) = rng.choice(PRODUCTS), rng.choice(PROBLEMS)
        city = rng.choice(CITIES)
        records.append({"id": f"cs-{i:03d}", "conversations": [
            {"from": "system", "value": "你是一家电器网店的客服，回答要简短、礼貌。"},
            {"from": "human", "value": f"你好，我在{city}买的{product}{problem}，怎么办？订单号{rng.randint(10**7, 10**8)}。"},
            {"from": "gpt", "value": f"您好！{answer}如果还有问题，请随时联系我们。"},
            {"from": "human", "value": "好的，谢谢。" if i % 2 else f"{product}的保修期是多久？"},
            {"from": "gpt", "value": "不客气，祝您生活愉快！" if i % 2 else "整机保修两年，电池保修六个月。"}]})
    return records + [dict(records[0]), dict(records[5])]  # the export's two repeated conversations


def faq_rows(rng: random.Random) -> list[tuple[str, str]]:
    rows = []
    for question, answer in FAQ_EN + FAQ_ZH:
        rows.append((question, answer))
        rows.append((f"{question} ({rng.choice(['app', 'website', 'store'])})", answer))
    return rows


def handbook(rng: random.Random, words: int = 3000) -> str:
    parts, count, section = ["# The customer-service model handbook\n"], 0, 0
    while count < words:
        topic = TOPICS[section % len(TOPICS)]
        parts.append(f"\n## {section + 1}. {topic}\n")
        for paragraph in range(rng.randint(3, 6)):
            text = " ".join(rng.sample(SENTENCES, rng.randint(2, 4)))
            if paragraph == 1:
                text = "\n".join(f"- {s}" for s in rng.sample(SENTENCES, 3))
            parts.append("\n" + text + "\n")
            count += len(text.split())
        if section % 3 == 0:
            parts.append("\n```bash\npython -m studio chunk handbook.md --out fragments.jsonl\n```\n")
        section += 1
    return "".join(parts)


def write_upload(folder: Path, seed: int = 7) -> list[Path]:
    """The three files in `folder`; returns their paths in upload order."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    chats = folder / "客服对话.json"
    chats.write_text(json.dumps(sharegpt(rng), ensure_ascii=False, indent=1), encoding="utf-8")
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["instruction", "output"])
    writer.writerows(faq_rows(rng))
    faq = folder / "faq-gbk.csv"
    faq.write_bytes(table.getvalue().encode("gbk"))
    guide = folder / "handbook.md"
    guide.write_text(handbook(rng), encoding="utf-8")
    return [chats, faq, guide]
