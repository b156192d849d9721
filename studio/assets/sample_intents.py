"""The invented intent-to-JSON sample task: a voice assistant's requests in Chinese and English, and their answers.

Each intent has a fixed slot order, phrasing templates per language and slot values per language. A slot's value
is always copied verbatim from the utterance, so a tiny model can learn the task as span copying. The answer is
`{"intent": ..., "slots": {...}}` in one JSON style (ANSWER_SEPARATORS) everywhere.
"""

import json
import random
import string
from dataclasses import dataclass

SYSTEM_PROMPT = "Parse the request into JSON with intent and slots."
ANSWER_SEPARATORS = (", ", ": ")
ZH_SHARE = 0.6  # fraction of utterances in Chinese


@dataclass(frozen=True)
class Intent:
    """One intent: its slots in answer order, templates per language and slot values per language."""

    name: str
    slots: tuple[str, ...]
    templates: dict[str, tuple[str, ...]]
    values: dict[str, dict[str, tuple[str, ...]]]


def _values(**slots: str) -> dict[str, tuple[str, ...]]:
    """Slot values written as one '|'-separated string per slot."""
    return {name: tuple(v.split("|")) for name, v in slots.items()}


INTENTS = (
    Intent("set_alarm", ("time", "label"), {
        "zh": ("{time}叫我{label}", "帮我定个{time}的闹钟", "设一个{time}的闹钟提醒我{label}", "闹钟定在{time}",
               "明天{time}叫醒我", "{time}提醒我{label}，设个闹钟"),
        "en": ("wake me up at {time}", "set an alarm for {time}", "alarm at {time} for {label}",
               "set a {label} alarm at {time}", "I need an alarm at {time}"),
    }, {
        "zh": _values(time="6点|6点半|7点|7点15|早上8点|晚上10点|下午2点|5点40",
                      label="起床|开会|吃药|健身|接孩子|赶火车"),
        "en": _values(time="6 am|6:30 am|7 am|7:15|8 pm|10 pm|noon|5:45 am",
                      label="wake up|meeting|medicine|gym|school run|train"),
    }),
    Intent("play_music", ("song", "artist", "genre"), {
        "zh": ("播放{artist}的{song}", "我想听{song}", "来点{genre}", "放一首{artist}的歌", "播放一些{genre}",
               "放{artist}的{song}给我听"),
        "en": ("play {song} by {artist}", "play some {genre}", "I want to hear {song}", "put on {artist}",
               "play {genre} music", "can you play {artist}"),
    }, {
        "zh": _values(song="晚风|夏天的海|远方的灯|星河|雨后|回家的路|旧时光",
                      artist="林小雨|陈默|苏晴|白桦乐队|许安然|南风组合",
                      genre="爵士|摇滚|民谣|古典音乐|轻音乐|电子音乐"),
        "en": _values(song="Salt and Cedar|Late Train Home|Glass Rivers|Quiet Harbor|Orange Static|Fifth Street Rain",
                      artist="Nora Vale|The Paper Boats|Milo Grant|Blue Fern|Ada Quinn|Sunday Static",
                      genre="jazz|rock|folk|classical|lo-fi|blues"),
    }),
    Intent("weather_query", ("city", "date"), {
        "zh": ("{date}{city}天气怎么样", "{city}{date}会下雨吗", "查一下{city}的天气", "{date}{city}多少度",
               "{city}{date}需要带伞吗"),
        "en": ("what's the weather in {city} {date}", "will it rain in {city} {date}", "weather for {city}",
               "how hot is it in {city} {date}", "do I need an umbrella in {city} {date}"),
    }, {
        "zh": _values(city="北京|上海|广州|成都|杭州|武汉|西安|南京|青岛|昆明", date="今天|明天|后天|周末|周五|下周一"),
        "en": _values(city="Boston|Denver|Seattle|Chicago|Austin|Toronto|Dublin|Sydney|Oslo|Lyon",
                      date="today|tomorrow|tonight|this weekend|on Friday|next Monday"),
    }),
    Intent("book_flight", ("origin", "destination", "date"), {
        "zh": ("订一张{date}从{origin}到{destination}的机票", "帮我买{date}去{destination}的机票",
               "我要从{origin}飞{destination}", "{date}{origin}飞{destination}，帮我订票"),
        "en": ("book a flight from {origin} to {destination} {date}", "I need a flight to {destination} {date}",
               "get me a ticket from {origin} to {destination}", "fly me to {destination} {date}"),
    }, {
        "zh": _values(origin="北京|上海|深圳|重庆|厦门|沈阳", destination="三亚|成都|乌鲁木齐|哈尔滨|拉萨|长沙|大连",
                      date="明天|后天|周五|下周三|5月3日|10月1日"),
        "en": _values(origin="London|Madrid|Chicago|Vancouver|Lisbon|Denver",
                      destination="Rome|Tokyo|Boston|Athens|Miami|Prague|Dublin",
                      date="tomorrow|on Friday|next Tuesday|on May 3|on June 12|on July 8"),
    }),
    Intent("order_food", ("dish", "quantity"), {
        "zh": ("点{quantity}份{dish}", "来{quantity}份{dish}外卖", "我要外卖，{dish}{quantity}份", "帮我订一份{dish}",
               "晚饭点{dish}"),
        "en": ("order {quantity} {dish}", "can I get {quantity} {dish}", "I'd like {dish} delivered",
               "order {dish} for dinner", "get me {quantity} {dish} please"),
    }, {
        "zh": _values(dish="宫保鸡丁|牛肉面|麻辣烫|扬州炒饭|酸菜鱼|小笼包|凉皮|煲仔饭", quantity="1|2|3|4"),
        "en": _values(dish="pad thai|margherita pizza|chicken burrito|ramen|caesar salad|veggie burger|fish tacos"
                      "|dumplings", quantity="1|2|3|4"),
    }),
    Intent("set_thermostat", ("room", "temperature"), {
        "zh": ("把{room}温度调到{temperature}度", "{room}空调设成{temperature}度", "温度调到{temperature}度",
               "{room}太冷了，调到{temperature}度", "{room}有点热，降到{temperature}度"),
        "en": ("set the {room} to {temperature} degrees", "make it {temperature} degrees",
               "turn the {room} heat up to {temperature}", "change the thermostat to {temperature}",
               "cool the {room} down to {temperature} degrees"),
    }, {
        "zh": _values(room="客厅|卧室|书房|儿童房|办公室", temperature="18|20|22|23|24|25|26|28"),
        "en": _values(room="living room|bedroom|office|kitchen|nursery", temperature="64|66|68|70|72|74|76"),
    }),
    Intent("navigate", ("destination", "mode"), {
        "zh": ("导航去{destination}", "{mode}去{destination}怎么走", "带我去{destination}",
               "我要{mode}去{destination}"),
        "en": ("take me to {destination}", "navigate to {destination}", "how do I get to {destination} {mode}",
               "directions to {destination} {mode}"),
    }, {
        "zh": _values(destination="最近的加油站|火车站|人民公园|机场|市图书馆|公司|最近的医院|体育馆",
                      mode="开车|步行|骑车|坐地铁"),
        "en": _values(destination="the airport|the nearest gas station|Central Station|the city library"
                      "|Pine Street Park|the office|the nearest pharmacy|the stadium",
                      mode="by car|on foot|by bike|by subway"),
    }),
    Intent("send_message", ("contact", "content"), {
        "zh": ("给{contact}发消息说{content}", "告诉{contact}{content}", "发短信给{contact}：{content}",
               "跟{contact}说一声{content}"),
        "en": ("text {contact} that {content}", "send {contact} a message saying {content}", "tell {contact} {content}",
               "message {contact}: {content}"),
    }, {
        "zh": _values(contact="妈妈|小王|李老师|张经理|老陈|姐姐",
                      content="我晚点到|会议改到三点|记得带钥匙|今晚不回家吃饭|我已经出发了|明天见"),
        "en": _values(contact="Mom|Alex|Dr. Lee|Sam|my boss|Priya",
                      content="I'm running late|the meeting moved to 3|the keys are on the table|I'll see you tomorrow"
                      "|I'm on my way|dinner is at 7"),
    }),
    Intent("add_calendar_event", ("title", "date", "time"), {
        "zh": ("{date}{time}加一个{title}的日程", "在日历上添加{date}的{title}", "提醒我{date}{time}有{title}",
               "把{title}安排在{date}{time}"),
        "en": ("add {title} to my calendar {date} at {time}", "schedule {title} {date} at {time}",
               "put {title} on my calendar {date}", "new event: {title} {date}"),
    }, {
        "zh": _values(title="牙医预约|项目评审|家长会|健身课|部门聚餐|面试", date="明天|周三|下周一|6月18日",
                      time="上午9点|下午3点|晚上7点|10点半"),
        "en": _values(title="dentist|project review|parent meeting|yoga class|team lunch|interview",
                      date="tomorrow|on Wednesday|next Monday|on June 18", time="9 am|3 pm|7:30 pm|10:30 am"),
    }),
    Intent("translate_text", ("text", "target_language"), {
        "zh": ("把“{text}”翻译成{target_language}", "{text}用{target_language}怎么说",
               "翻译成{target_language}：{text}"),
        "en": ("translate '{text}' into {target_language}", "how do you say {text} in {target_language}",
               "what is '{text}' in {target_language}"),
    }, {
        "zh": _values(text="谢谢你|早上好|洗手间在哪里|这个多少钱|我迷路了|很高兴认识你",
                      target_language="英语|日语|法语|德语|西班牙语|韩语"),
        "en": _values(text="good morning|where is the station|thank you very much|how much is this|I am lost"
                      "|nice to meet you", target_language="Spanish|French|German|Japanese|Italian|Chinese"),
    }),
    Intent("set_timer", ("duration", "label"), {
        "zh": ("倒计时{duration}", "设个{duration}的计时器", "{duration}后提醒我{label}", "{label}，计时{duration}"),
        "en": ("set a timer for {duration}", "timer {duration} for {label}", "start a {duration} {label} timer",
               "{label} timer, {duration}"),
    }, {
        "zh": _values(duration="5分钟|10分钟|半小时|1小时|90秒|25分钟|3分钟", label="煮鸡蛋|泡茶|烤蛋糕|午睡|关火"),
        "en": _values(duration="5 minutes|10 minutes|half an hour|an hour|90 seconds|25 minutes|3 minutes",
                      label="eggs|tea|pizza|nap|laundry"),
    }),
)

INTENT_NAMES = tuple(intent.name for intent in INTENTS)


def format_answer(intent: str, slots: dict[str, str]) -> str:
    """The one JSON style every answer and reference uses: intent first, slots in the intent's order."""
    return json.dumps({"intent": intent, "slots": slots}, ensure_ascii=False, separators=ANSWER_SEPARATORS)


def answer_schema() -> dict:
    """JSON Schema an answer must satisfy: exactly `intent` (one of INTENT_NAMES) and `slots` (string values)."""
    return {
        "type": "object",
        "properties": {
            "intent": {"type": "string", "enum": list(INTENT_NAMES)},
            "slots": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["intent", "slots"],
        "additionalProperties": False,
    }


def draw_example(rng: random.Random, intent: Intent) -> tuple[str, str]:
    """(utterance, answer) for one intent: a random language, template and slot values."""
    lang = "zh" if rng.random() < ZH_SHARE else "en"
    template = rng.choice(intent.templates[lang])
    used = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    values = {name: rng.choice(intent.values[lang][name]) for name in intent.slots if name in used}
    return template.format(**values), format_answer(intent.name, values)


def draw_examples(rng: random.Random, count: int, seen: set[str]) -> list[tuple[str, str]]:
    """`count` examples with utterances not in `seen` (which grows), cycling through the intents in order."""
    examples = []
    while len(examples) < count:
        intent = INTENTS[len(examples) % len(INTENTS)]
        utterance, answer = draw_example(rng, intent)
        if utterance not in seen:
            seen.add(utterance)
            examples.append((utterance, answer))
    return examples


def chat_record(number: int, utterance: str, answer: str) -> dict:
    return {"id": f"intent-{number:04d}", "messages": [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": utterance},
        {"role": "assistant", "content": answer},
    ]}


def alpaca_record(number: int, utterance: str, answer: str) -> dict:
    return {"id": f"intent-{number:04d}", "instruction": SYSTEM_PROMPT, "input": utterance, "output": answer}


def eval_record(number: int, utterance: str, answer: str) -> dict:
    return {"id": f"intent-eval-{number:03d}", "prompt": utterance, "messages": [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": utterance},
    ], "reference": answer, "json_schema": answer_schema()}
