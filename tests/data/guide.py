"""A Markdown guide as people write them, made at test time (not a bundled sample): a volunteers' handbook for a
village weather station, about 2,800 words in short paragraphs under many headings, with bullet and numbered lists,
a fenced code block, a table-like list of readings, a section in Chinese, a long section and one heading with
almost nothing under it. `guide_text()` is deterministic, so figures measured on it can be compared between runs.
"""

from __future__ import annotations

from pathlib import Path

_INTRO = """\
# The Millbrook weather station: a handbook for volunteers

This handbook is for everyone who keeps the Millbrook station running. It is short on theory and long on the
small habits that keep the record clean.

The station has run since 1987. Three generations of volunteers have read the thermometers, emptied the rain gauge
and argued about the wind vane.

Please read it once from start to end. After that, the checklists in each section are what you will come back to.
"""

_TOPICS = [
    ("Where everything is", [
        "The instruments stand in the fenced plot behind the village hall. The gate code is on the card in the hall "
        "kitchen, next to the kettle.",
        "The white louvred box is the Stevenson screen. It holds the dry and wet bulb thermometers, the maximum and "
        "minimum thermometers and the small data logger.",
        "The rain gauge sits on the grass, well away from the fence. The mast with the anemometer and the vane is "
        "in the far corner.",
        "The logbook, spare batteries and the cleaning kit live in the grey cupboard in the hall lobby.",
    ]),
    ("The daily reading", [
        "Readings are taken at nine in the morning, local clock time, every day of the year. A reading taken more "
        "than half an hour late is still recorded, but the time must be written next to it.",
        "Start with the thermometers, because opening the screen lets warm air in. Read the dry bulb first, then "
        "the wet bulb, then the maximum and the minimum.",
        "Read each thermometer with your eye level with the top of the liquid. Looking from above or below shifts "
        "the reading by a few tenths.",
        "Reset the maximum and minimum thermometers only after you have written both values down. A reset before "
        "writing loses a day of record that nobody can recover.",
        "Then go to the rain gauge, then the wind. Close the gate behind you.",
    ]),
    ("Rain and snow", [
        "Empty the inner can of the rain gauge into the glass measuring cylinder. Hold the cylinder upright and "
        "read the bottom of the curved surface.",
        "Amounts under 0.05 mm are written as a trace. A dry day is written as 0.0, never left blank.",
        "If the cylinder overflows, pour it out in parts and add them up. Write the parts in the margin so the sum "
        "can be checked.",
        "After snow, bring the whole funnel indoors and let it melt at room temperature. Do not warm it on a "
        "radiator: water evaporates and the total comes out low.",
        "Note the depth of lying snow on the board by the hedge, in whole centimetres, measured in three places.",
    ]),
    ("Wind", [
        "The logger stores the mean wind speed of the last ten minutes and the strongest gust of the day. Copy "
        "both from its screen.",
        "Wind direction is the direction the wind blows from. A westerly wind blows from the west towards the east.",
        "When the vane swings through more than a quarter of the compass, write the direction as variable.",
        "Calm means under one knot. The cups stand still or barely turn.",
    ]),
    ("Cloud and weather", [
        "Look at the whole sky, not only the patch above the hall. Estimate the cover in eighths of the sky, which "
        "observers call oktas.",
        "Eight oktas is a sky fully covered. Zero is a cloudless sky. Nine is used when fog or snow hides the sky "
        "completely.",
        "Describe the present weather in a few words: light drizzle, heavy showers, mist, hail. Use the list on "
        "the inside cover of the logbook.",
        "Visibility is judged from the landmarks on the chart in the cupboard. The church tower is two kilometres "
        "away, the wind farm on the ridge eleven.",
    ]),
]

_LIST_SECTION = """\
## The weekly round

Every Sunday, whoever takes the morning reading also does the weekly round. It takes about twenty minutes.

- Wipe the rain gauge funnel and check that the mesh is free of leaves.
- Check the wick of the wet bulb: it should be white and soft. Replace it if it is grey or stiff.
- Top up the distilled water in the wet bulb reservoir.
- Look for spiders' webs inside the screen and brush them out gently.
- Cut the grass around the gauge so that it stays below the rim of the funnel by at least 30 cm.
- Check the logger battery level on its screen. Anything below 20% means a change this week.

Write "weekly round done" in the logbook with your initials. If something was wrong, write what and what you did.
"""

_NUMBERED = """\
## Changing the logger batteries

1. Write the time in the logbook before you start. The logger keeps its memory, but the clock may need setting.
2. Open the screen and slide the logger out of its bracket.
3. Unscrew the back plate. Keep the four screws in the small jar, not in your pocket.
4. Replace both cells at once, with the lithium cells from the cupboard. Never mix old and new cells.
5. Close the plate, slide the logger back and check that the screen shows today's date and time.
6. Take the old cells to the recycling box in the hall. They do not go in the bin.
"""

_CODE = """\
## Sending the monthly file

At the end of each month the logger file goes to the regional network. The laptop in the cupboard has a small
script that checks the file before it is sent.

Connect the logger with the short USB cable, open a terminal and run:

```bash
cd ~/station
python check_month.py --month 2024-05 logger/MILLBROOK.CSV
# prints one line per day; a line starting with "!" needs a look
python send_month.py --month 2024-05 --to regional-network
```

The check flags days where the maximum is below the minimum, gaps longer than two hours and rain amounts above
80 mm. Such a day is not always wrong. Compare it with the logbook first, then correct whichever of the two is wrong
and write down why.

If the script refuses to send, do not edit the CSV by hand in a spreadsheet. Spreadsheets change the dates and the
decimal marks. Ask the coordinator instead.
"""

_MORE_TOPICS = [
    ("Keeping the logbook", [
        "The logbook is the official record, even though the logger stores the same numbers. When they disagree, "
        "the logbook wins unless it is clearly a slip of the pen.",
        "Write in ink. Cross a mistake out with one line, so it can still be read, and write the right value next "
        "to it.",
        "Every entry has the date, the time of the reading and your initials. An entry without initials cannot be "
        "queried later.",
        "Use the remarks column freely. Thunder heard in the night, a frost that took the allotments, a fallen "
        "branch on the fence: all of it helps whoever reads the record in thirty years.",
    ]),
    ("Safety", [
        "Do not go to the mast during a thunderstorm. The reading can wait; write the delay in the logbook.",
        "The plot floods after long rain. Wear boots and keep off the ditch side, where the bank is soft.",
        "If you find the fence damaged or the gate forced, do not tidy up. Take photographs and call the "
        "coordinator first.",
    ]),
    ("When you cannot come", [
        "Swap days with someone on the rota and write the swap on the board in the hall. The rota is only useful "
        "if it is true.",
        "If nobody can come, the logger still records. Write 'no manual reading' for that day rather than filling "
        "it in later from memory.",
        "Never copy yesterday's values into today's line. A missing day is honest; a copied day is a false record.",
    ]),
    ("Common mistakes", [
        "Reading the thermometers after the rain gauge, with the screen door left open. The dry bulb then reads "
        "high.",
        "Forgetting to reset the maximum thermometer. The next day shows the same maximum twice.",
        "Writing the gust in kilometres per hour. The station records knots; the logger can show both, so check "
        "the unit on its screen.",
        "Leaving the measuring cylinder outside. Dew collects in it overnight and adds to the next reading.",
    ]),
]

CHINESE = """\
## 给中文志愿者的说明

本站有几位说中文的志愿者，这一节用中文简要说明每天的观测步骤。详细内容请以英文部分为准。

每天上午九点观测。先读干球温度计，再读湿球温度计，然后读最高和最低温度计。读数时眼睛要与液柱顶端平齐！

两个数值都写进记录本之后，才能重置最高和最低温度计。否则这一天的记录就无法恢复了。

雨量筒里的水倒进量筒里读数。不足0.05毫米记为微量；没有降水记为0.0，不要空着。

下雪以后，把整个漏斗拿进室内，在室温下融化。不要放在暖气片上加热，因为水会蒸发，结果会偏小。

有问题请联系协调员。电话号码贴在大厅厨房的水壶旁边。
"""

_READINGS = """\
## A sample week from the logbook

These are real lines from a week in March, kept here so new volunteers can see what a good entry looks like.

Mon 9:00 dry 6.2 wet 5.1 max 9.8 min 1.4 rain 2.3 wind SW 8 kn gust 21 cloud 7 remarks: showers overnight
Tue 9:05 dry 4.9 wet 4.0 max 8.1 min 0.2 rain 0.0 wind W 5 kn gust 14 cloud 3 remarks: ground frost
Wed 9:00 dry 7.7 wet 6.9 max 11.2 min 3.3 rain 5.6 wind S 12 kn gust 30 cloud 8 remarks: heavy rain from 7:00
Thu 9:20 dry 8.4 wet 7.2 max 12.0 min 5.1 rain 1.1 wind SW 9 kn gust 25 cloud 6 remarks: reading late, bus
Fri 9:00 dry 5.5 wet 4.8 max 9.0 min 2.6 rain trace wind NW 4 kn gust 11 cloud 4 remarks: mist cleared by 10
Sat 9:00 dry 3.1 wet 2.9 max 7.4 min -0.8 rain 0.0 wind calm cloud 1 remarks: air frost, clear night
Sun 9:10 dry 6.0 wet 5.2 max 10.3 min 0.9 rain 0.4 wind variable 2 kn cloud 5 remarks: weekly round done, wick changed
"""

_LATER = [
    ("Why the record matters", [
        "Our record is one of the few long series from a valley site in the county. Researchers have used it to "
        "study late frosts and the timing of spring.",
        "A long record is only as good as its quietest days. The dull, dry, ordinary readings are what make the "
        "unusual ones visible.",
        "Every volunteer who takes a careful reading adds to something that will outlast all of us.",
    ]),
    ("History of the station", [
        "The station was set up by the school's geography teacher in 1987, with a screen built by the woodwork "
        "class. The original screen stood until 2009.",
        "In 1998 the rain gauge was moved twenty metres east, away from a growing ash tree. The move is noted in "
        "the logbook and in the station metadata.",
        "The data logger arrived in 2014, paid for by the parish council. Manual readings continued, and both "
        "records have been kept side by side ever since.",
        "The worst storm in the record was in January 2007, with a gust of 68 knots. The vane was found in the "
        "hedge the next morning.",
    ]),
    ("Questions volunteers ask", [
        "Do I need to read on Christmas Day? Yes, though a reading up to noon is fine. Write the time.",
        "Can I bring my children? Yes, and many of our best observers started that way. Keep them away from the "
        "ditch.",
        "What if I break a thermometer? Tell the coordinator the same day. Mercury thermometers were replaced in "
        "2016, so the spare is safe to handle.",
        "Who sees the data? The regional network, two universities and anyone who asks the parish council.",
    ]),
    ("Training a new volunteer", [
        "New volunteers shadow an experienced one for two weeks before they read alone. The first week they only "
        "watch and write; the second week they read and the experienced volunteer checks.",
        "Show them the common mistakes list early. Most of them are made once, noticed, and never again.",
        "Let them practise reading the thermometers indoors first, with the spare set in the cupboard. Reading "
        "a tenth of a degree takes some practice, especially for the spirit thermometer.",
        "At the end of the two weeks, the coordinator adds them to the rota and gives them the gate code.",
    ]),
    ("Checks against the instruments", [
        "Twice a year, in April and October, the regional network sends an inspector with travelling standards. "
        "The inspector compares our thermometers and the logger sensor with the standards and writes a short "
        "report.",
        "Keep the reports in the red folder in the cupboard. If a thermometer is found to read high or low, the "
        "correction is written on a label on its bracket and applied when the month is sent.",
        "Between visits, compare the dry bulb with the logger each morning. The logbook has a column for the "
        "difference; a difference that grows week by week points to a failing sensor or a dirty wick.",
        "The rain gauge is checked by pouring a known amount of water into the funnel: 100 ml should read 7.9 mm "
        "in the measuring cylinder.",
    ]),
]

_SEASONS = [
    ("Spring", [
        "Spring brings the first grass frosts and the first thunder. Watch the grass minimum thermometer on clear "
        "nights; it often reads five degrees below the screen minimum.",
        "Birds nest in odd places in April. A wren once built inside the screen roof. Leave a nest alone and tell "
        "the coordinator, who will decide whether the instruments can be read without disturbing it.",
        "Cut the grass every week from May on. Long grass shades the rain gauge and shelters the screen.",
    ]),
    ("Summer", [
        "On hot afternoons the dry bulb may pass thirty degrees. Check that the screen door closes fully: a gap "
        "of a finger's width lets the sun reach the thermometers and adds a degree or more.",
        "Thunder showers can drop twenty millimetres in half an hour. After such a storm, check that the gauge "
        "funnel is not blocked with hail or leaves.",
        "Evaporation from the wet bulb is fast in summer. Top up the reservoir twice a week in July and August.",
    ]),
    ("Autumn", [
        "Leaves are the enemy of the rain gauge in October. Check the mesh every day, not only on Sundays.",
        "Fog is common in the valley on still autumn mornings. Judge the visibility from the landmarks chart, "
        "and write fog only when you cannot see the hedge on the far side of the field, about a kilometre away.",
        "The clocks change at the end of October. Readings stay at nine local time, so the logger clock must be "
        "moved back by an hour on the Sunday.",
    ]),
    ("Winter", [
        "Ice on the screen door can make it stick. Tap it gently; never pull hard, the hinges are old.",
        "Snow depth is measured before anyone walks on the board. If someone has, measure in three untouched "
        "places nearby and note it.",
        "Short days mean that some readings are taken in poor light. Use the head torch from the cupboard, "
        "held to the side so the glare does not hide the top of the liquid.",
    ]),
]

_LONG = """\
## Instruments in detail

The dry bulb thermometer measures the temperature of the air in the shade of the screen. It is an ordinary glass \
thermometer, graduated in tenths of a degree, and it is read to the nearest tenth. The wet bulb thermometer is the \
same kind of instrument, but its bulb is wrapped in a muslin wick that dips into a small reservoir of distilled \
water. Water evaporating from the wick cools the bulb, and the drier the air, the more it cools. The difference \
between the two readings gives the humidity, which the regional network works out from the tables; we only record \
the two temperatures. The maximum thermometer has a narrow constriction above the bulb, like a clinical \
thermometer, so the column stays at the highest point it reached until the thermometer is reset by shaking or \
spinning it. The minimum thermometer is filled with spirit and holds a small glass index inside the column; the \
falling column drags the index down with it, and when the temperature rises again the spirit flows past the index \
and leaves it at the lowest point. It is reset by tilting it until the index slides back to the end of the column. \
Both are mounted almost horizontally in the screen, and both must be put back on their brackets carefully after a \
reset, or the index will slide and give a false minimum the next day. The data logger has its own electronic \
sensor, mounted in a small radiation shield at the back of the screen, and records every minute. Its readings \
usually agree with the glass thermometers within two tenths of a degree; a larger difference for several days in \
a row means one of them needs attention, and the coordinator should be told.

The rain gauge is a copper cylinder with a funnel of exactly 127 mm diameter on top. Rain falls into the funnel and \
runs into an inner can, which is emptied every morning. The rim of the funnel must stand 30 cm above the grass \
and be perfectly level, because a tilted funnel catches more rain from one side than from the other. The gauge is \
set in the ground so that splashes from the grass cannot reach the funnel. The measuring cylinder is made for this \
funnel size only: a cylinder from another station would give wrong amounts, so never borrow one.
"""

_SHORT = """\
## Contacts

Coordinator: see the card in the hall kitchen.
"""


def _section(title: str, paragraphs: list[str]) -> str:
    return f"## {title}\n\n" + "\n\n".join(paragraphs) + "\n"


def guide_text() -> str:
    """The handbook as one Markdown document (LF line ends)."""
    seasons = [_section(t, p).replace("## ", "### ", 1) for t, p in _SEASONS]
    parts = [_INTRO, *(_section(t, p) for t, p in _TOPICS), _LIST_SECTION, _NUMBERED, _CODE,
             *(_section(t, p) for t, p in _MORE_TOPICS), CHINESE, _READINGS, *(_section(t, p) for t, p in _LATER),
             _LONG, "## Through the year\n\nEach season has its own small tasks.\n", *seasons, _SHORT]
    return "\n".join(parts)


def write_guide(folder: Path, name: str = "volunteer-handbook.md") -> Path:
    path = folder / name
    path.write_text(guide_text(), encoding="utf-8")
    return path
