"""Composes the invented sample patents: ordinary documents from a subject table, and the planted problems.

A document is a title line, an abstract paragraph, then numbered steps ("步骤1：" / "第1步：" or "Step 1: ") of
2-4 blank-line-separated paragraphs. Sentences come from template decks filled with the subject's parts, parameters
and random numbers, so documents of different subjects share almost no 13-character shingles. The planted records
(exact copies, near copies with edited numbers and a dropped sentence, garbled, boilerplate and shuffled texts) give
the Quality tab something real to find. Every function takes an explicit random.Random, so output is reproducible.
"""

import random
import re

from studio.assets.sample_vocab import Param, Subject

ZH_SENTENCES = (
    "将{c}固定在{c2}的一侧，二者之间保持{mm}毫米的间隙。",
    "所述{p}设定为{v}，当实测值偏离设定值超过{pct}%时，{c}自动进行补偿。",
    "{c}与{c2}通过{link}连接，便于拆卸和更换。",
    "优选地，{p}取值范围为{lo}至{hi}{u}，在该范围内效果最为明显。",
    "实验表明，与现有方案相比，本步骤可使{p}的波动减小约{pct}%。",
    "为避免{prob}，{c}在启动前先进行一次自检，自检时间不超过{sec}秒。",
    "控制单元每隔{ms}毫秒读取一次{c}的输出，并对连续{k}个采样值取中位数。",
    "若{p}连续{k}次高于{hi}{u}，则判定为异常工况，并向操作人员发出提示。",
    "需要说明的是，{c}的数量可以根据实际需要设置为{k}个或更多。",
    "在另一实施例中，{c}替换为{c2}，其余结构保持不变。",
    "{c}的材质可选用{mat}，其表面经过{surf}处理。",
    "本步骤完成后，记录{p}和{p2}的数值，作为下一步的输入。",
    "通过上述设置，{e}，同时降低了维护成本。",
    "具体地，先将{p}调至{v}，保持{min}分钟后再逐步调整至{vb}。",
    "{c}上设有{k}个定位孔，相邻定位孔的间距为{mm}毫米。",
    "当{c}检测到{p}低于下限时，{c2}进入待机状态以节省能耗。",
    "整个过程无需人工干预，操作人员只需在终端上确认{p}即可。",
    "上述参数经过{k2}组对比试验确定，重复性误差小于{err}%。",
    "{c}的具体型号并不限于本实施例所列举的型号，只要其{p}满足要求即可。",
    "在{env}环境下，{c}仍能稳定工作，{p}的漂移量不超过{dv}。",
    "{c}与{c2}之间的数据通过{bus}传输，传输周期为{ms}毫秒。",
    "如图{fig}所示，{c}位于{c2}的上方，两者的中心线重合。",
    "首先对{c}进行清洁，然后涂覆一层厚度约{um}微米的保护层。",
    "为了使{e}，本发明在{c}的外侧增设了{c2}。",
    "{p}按下式修正：修正值＝{coef}×实测值＋{coef2}，其中实测值由{c}给出。",
    "随后，{c}按照预设曲线运行{min}分钟，期间{p}保持在{lo}～{hi}{u}。",
    "试验共使用{k}台样机，连续运行{hours}小时未出现{fail}。",
    "相较于传统的{old}方式，这一步骤省去了{k}道工序。",
    "{c}不宜长时间处于{p}超过{hi}{u}的状态，否则会加速老化。",
    "{c}采用模块化设计，单个模块重量约{kg}千克，一名工人即可完成安装。",
    "若检测结果合格，则进入下一步骤；否则重复本步骤，最多重复{k}次。",
    "在本实施例中，{p}为{v}，{p2}为{v2}。",
    "由于{c}响应较快，系统可以在{ms}毫秒内完成一次调节。",
    "{c2}的输出经滤波后送入{c}，滤波器截止频率为{hz}赫兹。",
    "为便于说明，下面以{k}个{c}组成的阵列为例进行描述。",
    "这样一来，{prob}的问题得到了有效缓解。",
    "{c}的安装角度可在{deg}度范围内调整，以适应不同的现场条件。",
    "当{p2}发生突变时，{c2}会在{sec}秒内锁定当前状态，等待人工复核。",
)

ZH_STEP_OPENERS = (
    "本步骤为{step}。", "{step}是保证后续工序质量的前提。", "在上一步骤完成后，开始{step}。",
    "这一步的主要任务是{step}。", "{step}之前，应先确认{c}处于正常状态。", "接下来{step}，该操作通常由{c}配合完成。",
)

ZH_ABSTRACTS = (
    "摘要：本发明公开了一种{name}，属于{field}技术领域。针对{prob}的问题，本发明依次进行{s1}、{s2}和{s3}等步骤，"
    "使得{e1}，并且{e2}。",
    "摘要：本发明涉及{field}领域，具体提供一种{name}。现有技术中{prob}。本发明通过{s1}并{s2}，{e1}；"
    "实际应用表明，{e2}。",
    "摘要：为解决{prob}的问题，本发明提出一种{name}，包括{c}、{c2}等部件。其方法包括{s1}、{s2}、{s3}。"
    "本发明的有益效果是{e1}，同时{e2}。",
)

EN_SENTENCES = (
    "The {c} is fixed to one side of the {c2}, leaving a gap of {mm} mm between them.",
    "The {p} is set to {v}; when the measured value drifts by more than {pct}%, the {c} compensates on its own.",
    "The {c} and the {c2} are joined by {link}, so either can be replaced in the field.",
    "Preferably the {p} lies between {lo} and {hi} {u}, where the benefit is most pronounced.",
    "In trials this step reduced the spread of the {p} by about {pct}% compared with earlier designs.",
    "To avoid the situation where {prob}, the {c} runs a self-test of at most {sec} s before it starts.",
    "Every {ms} ms the controller reads the {c} and keeps the median of the last {k} samples.",
    "If the {p} exceeds {hi} {u} on {k} consecutive readings, an abnormal condition is flagged to the operator.",
    "The number of {c} units is not limited to one; {k} or more may be used as needed.",
    "In another embodiment the {c} is replaced by the {c2}, and the rest of the arrangement is unchanged.",
    "The {c} may be made of {mat}, with a surface finished by {surf}.",
    "When this step is complete, the {p} and the {p2} are recorded and passed on to the next step.",
    "With this arrangement {e}, and maintenance becomes cheaper as well.",
    "Concretely, the {p} is first brought to {v}, held for {min} minutes, then moved gradually to {vb}.",
    "The {c} carries {k} locating holes spaced {mm} mm apart.",
    "Once the {c} sees the {p} fall below its lower limit, the {c2} goes to standby to save power.",
    "No manual intervention is needed; the operator only confirms the {p} on the terminal.",
    "These settings were chosen after {k2} comparison runs, with a repeatability error below {err}%.",
    "Under {env}, the {c} keeps working and the {p} drifts by no more than {dv}.",
    "Data between the {c} and the {c2} travel over {bus} with a period of {ms} ms.",
    "As shown in Figure {fig}, the {c} sits above the {c2} with their centre lines aligned.",
    "The {c} is cleaned first and then given a protective coat about {um} µm thick.",
    "So that {e}, {ac2} is added on the outside of the {c}.",
    "The {p} is corrected as corrected = {coef} × reading + {coef2}, where the reading comes from the {c}.",
    "The {c} then follows a preset profile for {min} minutes while the {p} stays within {lo}-{hi} {u}.",
    "Across {k} prototypes run for {hours} hours, no {fail} was observed.",
    "Compared with {old}, this step removes {k} separate operations.",
    "The {c} should not stay long with the {p} above {hi} {u}, or it ages faster.",
    "Each module of the {c} weighs about {kg} kg, so a single worker can install it.",
    "If the check passes, the method moves to the next step; otherwise this step is repeated up to {k} times.",
    "In this embodiment the {p} is {v} and the {p2} is {v2}.",
    "Because the {c} responds quickly, one control cycle finishes within {ms} ms.",
    "The output of the {c2} is filtered with a cut-off of {hz} Hz before it reaches the {c}.",
    "For clarity, an array of {k} {c} units is described below.",
    "In this way the problem that {prob} is largely avoided.",
    "The mounting angle of the {c} can be adjusted over {deg} degrees to suit the site.",
)

EN_STEP_OPENERS = (
    "The purpose of this step is to {step}.", "Once the previous step is finished, we {step}.",
    "Here the operator will {step}, usually with help from the {c}.", "Before we {step}, the {c} is checked.",
    "This step is to {step}; it sets up everything that follows.",
)

EN_ABSTRACTS = (
    "Abstract: Disclosed is {name_l} in the field of {field}. It addresses the problem that {prob}. "
    "The method proceeds as follows: {s1}, {s2} and {s3}. As a result {e1}, and {e2}.",
    "Abstract: In {field}, {prob}. This disclosure provides {name_l} built around {ac} and {ac2}; "
    "the steps {s1} and {s2} are central. Tests show that {e1}; moreover {e2}.",
)

ZH_FILLERS = {
    "link": ("螺栓", "卡扣", "激光焊接", "铰链", "快插接头", "导轨滑块"),
    "mat": ("铝合金", "不锈钢", "聚碳酸酯", "氧化锆陶瓷", "碳纤维复合材料", "医用硅胶"),
    "surf": ("阳极氧化", "喷砂", "钝化", "等离子", "疏水涂层", "电泳"),
    "env": ("高温高湿", "零下二十度", "强振动", "粉尘较多", "强电磁干扰", "盐雾"),
    "bus": ("CAN总线", "RS-485总线", "I2C总线", "SPI接口", "工业以太网", "LoRa无线链路"),
    "fail": ("卡滞", "泄漏", "过热", "信号丢失", "误报", "松动"),
    "old": ("人工巡检", "开环控制", "定时切换", "经验调节", "离线抽检"),
}

EN_FILLERS = {
    "link": ("bolts", "snap fits", "laser welds", "a hinge", "quick couplings", "a linear rail"),
    "mat": ("aluminium alloy", "stainless steel", "polycarbonate", "zirconia", "carbon-fibre composite", "silicone"),
    "surf": ("anodising", "bead blasting", "passivation", "plasma treatment", "a hydrophobic coating"),
    "env": ("high heat and humidity", "deep frost", "strong vibration", "heavy dust", "salt fog"),
    "bus": ("a CAN bus", "RS-485", "I2C", "SPI", "industrial Ethernet", "a LoRa radio link"),
    "fail": ("jamming", "leakage", "overheating", "signal loss", "false alarm", "loosening"),
    "old": ("manual inspection", "open-loop control", "timed switching", "rule-of-thumb tuning"),
}


def with_article(noun: str) -> str:
    return f"{'an' if noun[0].lower() in 'aeiou' else 'a'} {noun}"


def decimals_of(param: Param) -> int:
    """How many decimals the range bounds are written with ("0.5" -> 1, "120" -> 0)."""
    return max(len(b.split(".")[1]) if "." in b else 0 for b in (param.low, param.high))


def draw_value(rng: random.Random, param: Param) -> str:
    """A number inside the parameter's range, with as many decimals as its bounds are written with."""
    decimals = decimals_of(param)
    x = rng.uniform(float(param.low), float(param.high))
    return f"{x:.{decimals}f}" if decimals else str(round(x))


def draw_drift(rng: random.Random, param: Param) -> str:
    """A small tolerance, 1-8% of the parameter's span, one decimal finer than its bounds."""
    decimals = decimals_of(param) + 1
    span = abs(float(param.high) - float(param.low))
    return f"{span * rng.uniform(0.01, 0.08):.{decimals}f}"


def fill_slots(rng: random.Random, subject: Subject, lang: str, step: str) -> dict[str, str]:
    """Every placeholder a sentence template may use, freshly drawn (str.format ignores the unused ones)."""
    c, c2 = rng.sample(subject.parts, 2)
    p, p2 = rng.sample(subject.params, 2)
    lo, hi = sorted((draw_value(rng, p), draw_value(rng, p)), key=float)
    space = " " if lang == "en" else ""
    fillers = EN_FILLERS if lang == "en" else ZH_FILLERS
    slots = {key: rng.choice(options) for key, options in fillers.items()}
    slots.update(
        c=c, c2=c2, ac=with_article(c), ac2=with_article(c2),
        p=p.name, p2=p2.name, u=p.unit, lo=lo, hi=hi, step=step,
        v=f"{draw_value(rng, p)}{space}{p.unit}", v2=f"{draw_value(rng, p2)}{space}{p2.unit}",
        vb=f"{draw_value(rng, p)}{space}{p.unit}", dv=f"{draw_drift(rng, p)}{space}{p.unit}",
        err=f"{rng.uniform(0.3, 4.0):.1f}",
        pct=str(rng.randint(3, 45)), k=str(rng.randint(2, 9)), k2=str(rng.randint(6, 60)),
        ms=str(rng.choice((5, 10, 20, 50, 100, 200, 500))), sec=str(rng.randint(2, 90)),
        min=str(rng.randint(2, 40)), hours=str(rng.randint(48, 2000)), mm=f"{rng.uniform(0.2, 60):.1f}",
        um=str(rng.randint(5, 300)), kg=f"{rng.uniform(0.3, 25):.1f}", hz=str(rng.randint(5, 800)),
        fig=str(rng.randint(1, 9)), coef=f"{rng.uniform(0.8, 1.2):.3f}", coef2=f"{rng.uniform(0.05, 3):.2f}",
        deg=str(rng.randint(5, 90)), e=rng.choice(subject.effects), prob=subject.problem,
    )
    return slots


class Deck:
    """Deals templates without repeats until all are used, so one document rarely says the same thing twice."""

    def __init__(self, rng: random.Random, items: tuple[str, ...]):
        self.rng, self.items, self.pile = rng, items, []

    def deal(self) -> str:
        if not self.pile:
            self.pile = list(self.items)
            self.rng.shuffle(self.pile)
        return self.pile.pop()


def compose_step(rng: random.Random, subject: Subject, lang: str, step: str, deck: Deck) -> list[str]:
    """The 2-4 paragraphs of one step; the first opens with a sentence naming the step."""
    openers = EN_STEP_OPENERS if lang == "en" else ZH_STEP_OPENERS
    joiner = " " if lang == "en" else ""
    # English sentences are about three times longer in characters, so they get fewer per paragraph.
    per_paragraph = (2, 3) if lang == "en" else (3, 5)
    paragraphs = []
    for i in range(rng.randint(2, 4)):
        templates = [deck.deal() for _ in range(rng.randint(*per_paragraph))]
        if i == 0:
            templates.insert(0, rng.choice(openers))
        paragraphs.append(joiner.join(t.format(**fill_slots(rng, subject, lang, step)) for t in templates))
    return paragraphs


def compose_abstract(rng: random.Random, subject: Subject, lang: str, steps: list[str]) -> str:
    """The abstract paragraph: subject, field, problem, three of the steps and both effects."""
    slots = fill_slots(rng, subject, lang, steps[0])
    s1, s2, s3 = steps[0], steps[len(steps) // 2], steps[-1]
    name_l = with_article(subject.name[0].lower() + subject.name[1:])
    slots.update(name=subject.name, name_l=name_l, field=subject.field,
                 s1=s1, s2=s2, s3=s3, e1=subject.effects[0], e2=subject.effects[1])
    return rng.choice(EN_ABSTRACTS if lang == "en" else ZH_ABSTRACTS).format(**slots)


def step_heading(lang: str, style: str, number: int, step: str) -> str:
    if lang == "en":
        return f"Step {number}: {step[0].upper()}{step[1:]}"
    return f"第{number}步：{step}" if style == "di" else f"步骤{number}：{step}"


def compose_document(rng: random.Random, subject: Subject, lang: str) -> tuple[str, str]:
    """(title, text) of one ordinary document on `subject`: 5 or 6 of its steps, kept in their order."""
    title = subject.name if lang == "en" else f"一种{subject.name}"
    keep = sorted(rng.sample(range(len(subject.steps)), rng.randint(5, 6)))
    steps = [subject.steps[i] for i in keep]
    style = "di" if rng.random() < 0.3 else "buzhou"
    sentences = EN_SENTENCES if lang == "en" else ZH_SENTENCES
    deck = Deck(rng, sentences)
    blocks = [title, compose_abstract(rng, subject, lang, steps)]
    for number, step in enumerate(steps, start=1):
        blocks.append(step_heading(lang, style, number, step))
        blocks.extend(compose_step(rng, subject, lang, step, deck))
    return title, "\n\n".join(blocks)


def shingles(text: str, k: int = 13) -> set[str]:
    return {text[i:i + k] for i in range(max(len(text) - k + 1, 1))}


def jaccard13(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' 13-character shingle sets (what the near-duplicate check uses)."""
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


HEADING = re.compile(r"^(步骤\d+|第\d+步|Step \d+)[：:]")
# A sentence ends at 。 or at a full stop followed by a space (so decimals like 0.5 do not split).
SENTENCE = re.compile(r".+?(?:。|\.(?:\s+|$))")


def near_copy(rng: random.Random, text: str) -> str:
    """A revised copy: several body numbers changed (same digit count) and one body sentence dropped.

    Edits stay off the title and the step headings, and total roughly 1-3% of the characters, which keeps the
    13-shingle Jaccard with the original around 0.85-0.95.
    """
    lines = text.split("\n")
    body = [i for i, line in enumerate(lines) if i > 0 and line and not HEADING.match(line)]
    drop_line = rng.choice([i for i in body if len(SENTENCE.findall(lines[i])) >= 3])
    sentences = SENTENCE.findall(lines[drop_line])
    sentences.pop(rng.randrange(1, len(sentences)))
    lines[drop_line] = "".join(sentences).rstrip()
    for i in rng.sample(body, min(8, len(body))):
        numbers = list(re.finditer(r"\d+", lines[i]))
        if numbers:
            m = rng.choice(numbers)
            digits = len(m.group())
            new = str(rng.randint(10 ** (digits - 1) if digits > 1 else 0, 10 ** digits - 1))
            if new == m.group():
                new = str((int(new) + 1) % (10 ** digits)).zfill(digits)
            lines[i] = lines[i][:m.start()] + new + lines[i][m.end():]
    return "\n".join(lines)


def garble(text: str) -> str:
    """Mojibake: the GBK bytes of a Chinese text read back as Windows-1252 (undefined bytes become U+FFFD)."""
    return text.encode("gbk", errors="replace").decode("cp1252", errors="replace")


BOILERPLATE_LINE = "本页内容仅供专利审查参考，未经权利人书面许可，不得复制、转载或用于任何商业用途。"


def boilerplate(title: str, repeats: int) -> str:
    """A scanned notice page: the title, one real sentence, then the same legal line over and over."""
    lines = [title, "", "说明：以下为附页内容。", ""] + [BOILERPLATE_LINE] * repeats
    return "\n".join(lines)


def shuffled_fragments(rng: random.Random, texts: list[str], n_fragments: int) -> str:
    """Clause fragments of several documents, shuffled and glued into sentences that make no sense."""
    pool = []
    for text in texts:
        body = "\n".join(text.split("\n")[1:])
        pool.extend(f for f in re.split(r"[，。；：\n]+", body) if len(f) >= 4 and not HEADING.match(f + "："))
    picked = rng.sample(pool, n_fragments)
    paragraphs, sentence, paragraph = [], [], []
    for fragment in picked:
        sentence.append(fragment)
        if len(sentence) >= rng.randint(2, 4):
            paragraph.append("，".join(sentence) + "。")
            sentence = []
        if len(paragraph) >= 4:
            paragraphs.append("".join(paragraph))
            paragraph = []
    paragraphs.append("".join(paragraph) + ("，".join(sentence) + "。" if sentence else ""))
    return "\n\n".join(p for p in paragraphs if p)
