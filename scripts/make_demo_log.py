#!/usr/bin/env python3
"""Generate promptsim's default demo log: ``demo-requests.jsonl`` (or ``demo-prompts.jsonl``) and
``demo-accounts.jsonl``.

    python scripts/make_demo_log.py [--out data] [--seed 0] [--scale 1.0] [--format openai|flat]

Three days of synthetic traffic (from 2026-11-20, UTC) from about 460 accounts, about 8,000 requests, small enough
that the whole engine runs on it in seconds. Standard library only, deterministic for a seed.

``--format openai`` (the default) writes each request as a provider's gateway logs it: ``request_id``, ``created``
(epoch seconds), ``account_id``, ``api_key_id``, ``client {asn, user_agent}``, ``endpoint`` and the Chat Completions
``body {model, messages, tools}`` -- system prompts in system messages, conversations resending their earlier turns
with the assistant's replies between them, agent steps as assistant tool calls and tool results, functions in
``tools``. ``--format flat`` writes, for the same requests, the flat rows (``prompt_id, account_id, timestamp, text,
model, ip_asn, user_agent``) that promptsim reads from them: the system prompt, a blank line and the newest user turn,
or ``[tool NAME] result`` for an agent's step. Both give promptsim the same texts, ids and times.

Every word of every request is generated from small phrase banks the project wrote itself, kept apart from this
code in ``demo_phrases.py`` beside it: no text is taken from any dataset or corpus. The log holds:

* ordinary users (human daily rhythm in a few time zones, a few requests a day, in one to three sittings): writing
  help, cooking, travel, fitness, advice, quick facts, coding and homework questions in their own words, small talk,
  role-play asks, some Spanish, German and Chinese; within a sitting some requests follow up the last one in the
  same conversation; a fifth of them are API users with a stock system prompt; a few small companies run several
  accounts on one org and one card;
* developers using one public coding agent (the same system prompt and four tools for all, their own accounts and
  orgs, human hours): sessions of 2-8 steps a few minutes apart, each step resending the last with one more tool
  call (list files, open a file, search, run the tests) and its result;
* legitimate templated traffic that looks like a campaign at first sight: a SaaS app sending its users' tickets
  under one fixed system prompt, a customer's evaluation harness (two old accounts of one org, nightly batches of
  exam-style questions), and a viral role-play prompt copied, with small edits, by 60 ordinary users, each copy a
  game played for a few moves;
* two planted extraction campaigns, accounts created in a burst a week before the log, on a few datacenter ASNs,
  sending round the clock: **reasoning-harvest** (three wrappers asking for full step-by-step reasoning, one of
  them as a system message, around one pool of distinct questions -- math, code, logic, science and history,
  multilingual math, and tool use with the functions in the request's tools -- dealt out between its accounts, so
  the average question is sent once; 2-4 accounts per payment card) and **grader-sweep** (two wrappers asking for
  a rubric grade out of 10 of a candidate answer; one card per account; every request a few minutes past the
  hour, in lockstep).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the phrase banks sit beside this script

from demo_phrases import (  # noqa: E402
    ACTIVITIES,
    AGENT_CODE,
    AGENT_DETAILS,
    AGENT_ERRORS,
    AGENT_FILES,
    AGENT_NAMES,
    AGENT_NOTES,
    AGENT_SYSTEM,
    AGENT_TARGETS,
    AGENT_TASK_FORMS,
    AGENT_TEST_NAMES,
    AGENT_TOOLS,
    AGENT_VERBS,
    AIRPORTS,
    ALT,
    APPLIANCES,
    BEHAVIOURS,
    BODY_PARTS,
    BOOK_KINDS,
    BOOKS,
    BUGGY_CODE,
    BUGGY_FORMS,
    BUSINESSES,
    CAL_TITLES,
    CALENDAR_FORMS,
    CANDIDATE_FORMS,
    CATEGORIES,
    CITIES,
    CLASSES,
    CODE_ACTIONS,
    CODE_ERRORS,
    CODE_EXTRAS,
    CODE_LANGS,
    CODE_OPENERS,
    CODE_RECORD_FORMS,
    CODE_RECORD_OPS,
    CODE_RECORDS,
    CODE_TASK_BANK,
    CODE_TASKS,
    COLOURS,
    COMPANIONS,
    COMPLEXITY_FORMS,
    COMPLEXITY_SUBJECTS,
    COMPOUNDS,
    CONCEPTS,
    CONDITIONAL_FORMS,
    CONDITIONALS,
    CONTAINERS,
    COUNTRIES,
    CURRENCIES,
    DE_ABSAGE,
    DE_EMP,
    DE_KONZEPT,
    DE_REISE,
    DE_STADT,
    DE_THEMA,
    DE_VERHALTEN,
    DIETS,
    DISHES,
    DISHES_TO_SCALE,
    EMAIL_TOPICS,
    ES_CIUDADES,
    ES_CONCEPTOS,
    ES_COSAS,
    ES_DEST,
    ES_FRASES,
    ES_PROBLEMAS,
    ES_TEMA,
    ESSAY_TOPICS,
    EVENTS,
    FACT_FORMS,
    FACT_SUBJECTS,
    FACTS,
    FALL_PLACES,
    FALLING_THINGS,
    FIELDS,
    FOLLOW_UPS,
    GAME_MOVES,
    GENRES,
    GOALS,
    GOODS,
    GRADER_WRAPPERS,
    GROUPS,
    HARVEST_WRAPPERS,
    HIST_ASKS,
    HIST_EVENTS,
    HIST_QUESTIONS,
    HOBBIES,
    INGREDIENTS,
    INVENTIONS,
    ITEMS,
    JOBS,
    JOBS_TOGETHER,
    KNIGHT_CLAIMS,
    KNIGHT_FORMS,
    LANDMARKS,
    MATERIALS,
    MATH_SHAPES,
    MEETINGS,
    ML_NAMES,
    ML_SHAPES,
    ML_THINGS,
    MONTHS,
    NAMES,
    OCCASIONS,
    ORDER_ASKS,
    OUTINGS,
    PACKED,
    PEOPLE_POOLS,
    PERSONAS,
    PHENOMENA,
    PLOTS,
    POEM_FORMS,
    POEM_SUBJECTS,
    PRACTICE,
    PRIZES,
    PROCESS_OPENERS,
    PROCESSES,
    PROG_LANGS,
    PURCHASES,
    RECIPE_INGREDIENTS,
    RECIPIENTS,
    RELATIONS,
    REMINDER_TASKS,
    REPLY_CLOSERS,
    REPLY_OPENERS,
    RIGHT_TRIANGLES,
    ROUGH_SENTENCES,
    ROUGH_SLOTS,
    ROUND_THINGS,
    RP_TASKS,
    SAAS_SYSTEM,
    SAAS_USER,
    SCIENCE_CALCS,
    SCIENCE_OPENERS,
    SEAT_PLACES,
    SEQUENCE_ASKS,
    SHOP_ITEMS,
    SHOPS,
    SMALL_TALK,
    SQL_FORMS,
    SQL_TASKS,
    STOCK_SYSTEM,
    SWAP_INGREDIENTS,
    SYLLOGISM_FORMS,
    TESTS,
    TICKERS,
    TICKETS,
    TIMED_EVENTS,
    TOKENS,
    TONES,
    TOOL_ASKS,
    TOOL_LANGS,
    TOOL_PHRASES,
    TOOL_REQUESTS,
    TOOLS,
    TOPICS,
    TOWNS,
    TRAITS,
    TRAVELLERS,
    TRIPS,
    UNIT_PAIRS,
    UNIT_WORDS,
    VEHICLES,
    VESSELS,
    VIRAL_EXTRAS,
    WANTS,
    WAVES,
    WEEKDAYS,
    WORKPLACES,
    ZH_CITY,
    ZH_CONCEPT,
    ZH_OBJ,
    ZH_SENTENCES,
    ZH_TOPIC,
)

START = datetime(2026, 11, 20, tzinfo=timezone.utc)
DAYS = 3
WINDOW = DAYS * 86400
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")

# population sizes at --scale 1
N_ORDINARY = 330
N_SAAS = 40
N_EVAL = 2
N_VIRAL = 60  # drawn from the ordinary users
N_HARVEST = 40
N_GRADER = 25
N_AGENT = 24  # developers using one public coding agent

MODELS = ["orion-2", "orion-2-mini", "orion-2-think"]

# ---------------------------------------------------------------------------------------------------------------
# Places, clocks and networks

# (country, UTC offset in hours, language, weight): ordinary users' home regions
REGIONS = [
    ("US", -5.0, "en", 22),
    ("US", -8.0, "en", 14),
    ("CA", -5.0, "en", 4),
    ("GB", 0.0, "en", 9),
    ("IE", 0.0, "en", 2),
    ("DE", 1.0, "de", 8),
    ("AT", 1.0, "de", 2),
    ("ES", 1.0, "es", 6),
    ("MX", -6.0, "es", 5),
    ("BR", -3.0, "en", 4),
    ("IN", 5.5, "en", 10),
    ("CN", 8.0, "zh", 6),
    ("TW", 8.0, "zh", 2),
    ("JP", 9.0, "en", 3),
    ("AU", 10.0, "en", 3),
]

# residential and mobile networks by country (public ASN numbers; the names are only for the reader)
HOME_ASNS = {
    "US": ["AS7922", "AS701", "AS7018", "AS20115", "AS22773", "AS21928"],  # cable, telco, mobile
    "CA": ["AS812", "AS577", "AS852"],
    "GB": ["AS2856", "AS5089", "AS5607"],
    "IE": ["AS5466", "AS6830"],
    "DE": ["AS3320", "AS3209", "AS6805"],
    "AT": ["AS8447", "AS25255"],
    "ES": ["AS3352", "AS12479", "AS12430"],
    "MX": ["AS8151", "AS28403"],
    "BR": ["AS28573", "AS18881", "AS26599"],
    "IN": ["AS24560", "AS55836", "AS45609"],
    "CN": ["AS4134", "AS4837", "AS9808"],
    "TW": ["AS3462", "AS9924"],
    "JP": ["AS2516", "AS4713", "AS17676"],
    "AU": ["AS1221", "AS4804", "AS7545"],
}
CLOUD_ASNS = ["AS16509", "AS14618", "AS15169", "AS396982", "AS8075", "AS13335", "AS54113", "AS31898"]
HARVEST_ASNS = ["AS14061", "AS24940", "AS16276"]  # three budget datacenter networks
GRADER_ASNS = ["AS63949", "AS20473"]

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "OrionChat/3.8.2 (iOS 18.1)",
    "OrionChat/3.8.0 (Android 15)",
]
API_CLIENTS = ["orion-sdk-python/0.9.2", "orion-sdk-node/0.8.5", "curl/8.5.0", "python-requests/2.32.3"]

# relative likelihood of a human sending a prompt at each local hour (0-23)
HUMAN_HOURS = [
    0.35,
    0.2,
    0.1,
    0.06,
    0.05,
    0.08,
    0.25,
    0.6,
    1.0,
    1.3,
    1.4,
    1.4,
    1.3,
    1.3,
    1.35,
    1.35,
    1.3,
    1.3,
    1.4,
    1.55,
    1.6,
    1.45,
    1.1,
    0.7,
]


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pick(rng: random.Random, xs: list) -> object:
    return xs[rng.randrange(len(xs))]


def weighted(rng: random.Random, pairs: list[tuple[object, float]]) -> object:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def human_hour(rng: random.Random) -> float:
    """A local time of day (hours) drawn from the human daily rhythm."""
    h = rng.choices(range(24), weights=HUMAN_HOURS)[0]
    return h + rng.random()


def money(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def casual(rng: random.Random, s: str) -> str:
    """How people actually type: sometimes lower-case, sometimes no final punctuation, sometimes a little extra."""
    r = rng.random()
    if r < 0.25:
        s = s[0].lower() + s[1:]
    elif r < 0.3:
        s = s.lower()
    if rng.random() < 0.15 and s[-1] in ".?":
        s = s[:-1]
    r = rng.random()
    if r < 0.05:
        s += " thanks!"
    elif r < 0.08:
        s += " pls"
    elif r < 0.1:
        s += " :)"
    elif r < 0.12:
        s = "quick question, " + s[0].lower() + s[1:]
    elif r < 0.14:
        s = "hey, " + s[0].lower() + s[1:]
    return s


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests


def alt(rng: random.Random, key: str, *args: object) -> str:
    return pick(rng, ALT[key]).format(*args)


def join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def follow(rng: random.Random, first: str, then: str) -> str:
    """A request and its follow-up, typed as two sentences or run together with a comma."""
    if not then:
        return first
    if rng.random() < 0.6:
        return f"{first.rstrip('.?!')}, {then[0].lower()}{then[1:]}"
    return f"{first} {then}"


def rough_sentence(rng: random.Random) -> str:
    slots = {k: pick(rng, v) for k, v in ROUGH_SLOTS.items()}
    return pick(rng, ROUGH_SENTENCES).format(n=rng.randint(14, 90), **slots)


def gen_writing(rng: random.Random) -> str:
    k = rng.randrange(8)
    if k == 0:
        return f"Write a {pick(rng, TONES)} email to {pick(rng, RECIPIENTS)} about {pick(rng, EMAIL_TOPICS)}."
    if k == 1:
        return (
            f"can you help me write an email to {pick(rng, RECIPIENTS)}? it's about {pick(rng, EMAIL_TOPICS)} "
            f"and I want it to sound {pick(rng, TONES)}"
        )
    if k == 2:
        return (
            f"Write a cover letter for a {pick(rng, JOBS)} job at {pick(rng, WORKPLACES)}. I have "
            f"{rng.randint(1, 12)} years of experience in {pick(rng, FIELDS)}."
        )
    if k == 3:
        return f"Write a {pick(rng, POEM_FORMS)} about {pick(rng, POEM_SUBJECTS)}."
    if k == 4:
        return f"I need a {pick(rng, POEM_FORMS)} about {pick(rng, POEM_SUBJECTS)} for {pick(rng, OCCASIONS)}"
    if k == 5:
        return join(alt(rng, "tone", pick(rng, ["professional", "polite", "friendly", "clear"])), rough_sentence(rng))
    if k == 6:
        return f"Give me {rng.randint(5, 15)} name ideas for {pick(rng, BUSINESSES)}."
    return (
        f"Help me write a {rng.randint(1, 3)}-minute toast for {pick(rng, ['my brother', 'my best friend', 'my sister', 'my parents', 'my coworker'])}'s "
        f"{pick(rng, ['wedding', 'retirement', '40th birthday', 'going-away party', 'graduation'])}."
    )


def gen_cooking(rng: random.Random) -> str:
    k = rng.randrange(7)
    a, b, c = rng.sample(INGREDIENTS, 3)
    if k == 0:
        return f"What can I make for dinner with {a}, {b} and {c}?"
    if k == 1:
        veg = pick(
            rng,
            [
                "potatoes",
                "brussels sprouts",
                "a whole chicken",
                "carrots",
                "a pork shoulder",
                "butternut squash",
                "chicken breasts",
                "salmon fillets",
            ],
        )
        return f"How long should I roast {veg} at {pick(rng, ['180C', '200C', '350F', '400F', '425F'])}?"
    if k == 2:
        return f"What's a good substitute for {pick(rng, SWAP_INGREDIENTS)} in {pick(rng, DISHES)}?"
    if k == 3:
        who = pick(
            rng,
            [
                "for me and my partner",
                "for a family of four",
                "for one person",
                "for my kids",
                "for a student on a budget",
                "for me, I work night shifts",
                "for two adults",
            ],
        )
        return f"{pick(rng, ['Give me', 'Can you make', 'I need', 'Write'])} a {pick(rng, DIETS)} meal plan {who}"
    if k == 4:
        problem = pick(rng, ["soggy", "dry", "too salty", "stuck to the pan", "flat", "burnt on the bottom"])
        return f"my {pick(rng, DISHES)} always comes out {problem}, what am I doing wrong?"
    if k == 5:
        return f"Is it still safe to eat {a} that's been in the fridge for {rng.randint(3, 9)} days?"
    ask = pick(rng, ["any quick lunch ideas", "what's a lunch", "something for lunch", "a snack I can make"])
    return f"I have {a} and {b}, {ask} that takes under {pick(rng, ['10', '15', '20', '30'])} minutes?"


def gen_travel(rng: random.Random) -> str:
    k = rng.randrange(7)
    city, city2 = rng.sample(CITIES, 2)
    if k == 0:
        return (
            f"Plan a {rng.randint(2, 10)}-day trip to {city} in {pick(rng, MONTHS)} on a "
            f"{pick(rng, ['tight', 'medium', 'generous', 'student'])} budget."
        )
    if k == 1:
        return f"What should I pack for {city} in {pick(rng, MONTHS)}?"
    if k == 2:
        return f"Is {city} a good place to visit with {pick(rng, COMPANIONS)}?"
    if k == 3:
        return f"What's the cheapest way to get from {city} to {city2}?"
    if k == 4:
        return f"things to do in {city} when it rains"
    if k == 5:
        return f"I have a {rng.randint(4, 11)} hour layover in {city}, is it worth leaving the airport?"
    return f"Which neighbourhood should I stay in for a first visit to {city}?"


def gen_fitness(rng: random.Random) -> str:
    k = rng.randrange(6)
    if k == 0:
        days = rng.randint(2, 5)
        when = pick(
            rng,
            [
                f"I can train {days} days a week.",
                f"{days} sessions a week max",
                "mornings only",
                "I only have 30 minutes a day.",
                "no gym, just my living room",
                f"I work {days + 2} days a week.",
            ],
        )
        return follow(rng, f"Make me a {rng.randint(4, 16)}-week {pick(rng, GOALS)} plan.", when)
    if k == 1:
        return f"How many calories do I burn doing {rng.randint(20, 90)} minutes of {pick(rng, ACTIVITIES)}?"
    if k == 2:
        return f"good stretches for {pick(rng, BODY_PARTS)} pain after {pick(rng, ACTIVITIES)}?"
    if k == 3:
        return follow(rng, alt(rng, "years", rng.randint(25, 68)), f"How should I start {pick(rng, ACTIVITIES)}?")
    if k == 4:
        ask = pick(
            rng,
            [
                "how much protein should i eat",
                "how many grams of protein do I need",
                "what's a good daily protein target",
                "how much protein is too much",
            ],
        )
        goal = pick(rng, ["lift 3x a week", "want to build muscle", "run a lot", "am trying to lose fat", ""])
        return join(ask, f"if I weigh {rng.randint(50, 110)} kg", goal)
    return f"Is it bad to do {pick(rng, ACTIVITIES)} every day, or do I need rest days?"


def gen_advice(rng: random.Random) -> str:
    k = rng.randrange(6)
    if k == 0:
        return follow(rng, f"My {pick(rng, RELATIONS)} keeps {pick(rng, BEHAVIOURS)}.", alt(rng, "fight"))
    if k == 1:
        return follow(
            rng,
            f"I got offered a job at {pick(rng, WORKPLACES)} but it pays {rng.randint(5, 25)}% less than now.",
            alt(rng, "take"),
        )
    if k == 2:
        return follow(
            rng,
            f"I'm {pick(rng, ['really ', 'so ', '', 'kind of '])}nervous about {pick(rng, EVENTS)}.",
            alt(rng, "tips"),
        )
    if k == 3:
        cap = pick(rng, ["for about", "under", "around", "max", "no more than"])
        return (
            f"{pick(rng, ['gift ideas', 'What should I get', 'a nice present', 'what to buy'])} for my "
            f"{pick(rng, RELATIONS)} who likes {pick(rng, HOBBIES)}, {cap} ${rng.choice([20, 30, 50, 75, 100, 150])}?"
        )
    if k == 4:
        task = pick(
            rng,
            [
                "my thesis",
                "cleaning the garage",
                "doing my taxes",
                "studying for finals",
                "updating my CV",
                "learning Spanish",
                "answering emails",
            ],
        )
        return f"how do I stop putting off {task}"
    return f"Should I learn {pick(rng, ['guitar', 'piano', 'drums', 'violin', 'ukulele'])} or {pick(rng, ['singing', 'bass', 'saxophone', 'the cello'])} first?"


def gen_lookup(rng: random.Random) -> str:
    k = rng.randrange(7)
    if k == 0:
        return f"how tall is {pick(rng, LANDMARKS)}"
    if k == 1:
        return f"what time zone is {pick(rng, CITIES)} in"
    if k == 2:
        a, b = pick(rng, UNIT_PAIRS)
        return f"how many {a} in a {b}"
    if k == 3:
        return f"what's the capital of {pick(rng, COUNTRIES)}"
    if k == 4:
        return f"who invented {pick(rng, INVENTIONS)}?"
    if k == 5:
        a, b = rng.sample(CITIES, 2)
        return f"how far is {a} from {b}"
    return f"convert {rng.randint(2, 500)} {pick(rng, ['fahrenheit to celsius', 'miles to km', 'pounds to kg', 'usd to eur'])}"


def gen_code_help(rng: random.Random) -> str:
    k = rng.randrange(5)
    lang = pick(rng, CODE_LANGS)
    if k == 0:
        return follow(
            rng,
            f"my {lang} {pick(rng, ['script', 'code', 'app', 'program'])} keeps throwing {pick(rng, CODE_ERRORS)} "
            f"when I {pick(rng, CODE_ACTIONS)}.",
            alt(rng, "wrong"),
        )
    if k == 1:
        return f"How do I {pick(rng, CODE_TASKS)} in {lang}?"
    if k == 2:
        return f"Can you explain {pick(rng, CONCEPTS)} like I'm new to programming?"
    if k == 3:
        a, b = rng.sample(
            [
                "let",
                "const",
                "var",
                "a list",
                "a tuple",
                "== and ===",
                "an interface",
                "an abstract class",
                "a process",
                "a thread",
            ],
            2,
        )
        return f"whats the difference between {a} and {b}"
    ask = pick(
        rng,
        [
            "what small project should I try next?",
            "is it normal to feel this lost?",
            "what should I learn after the basics?",
            "any good beginner projects?",
            "how do I get better at debugging?",
            "should I switch to another language?",
        ],
    )
    how = pick(rng, ["on my own", "from videos", "with a free course", "at night after work", "for my job"])
    return follow(rng, f"I've been learning {lang} {how} for {rng.randint(2, 10)} weeks.", ask)


def gen_homework(rng: random.Random) -> str:
    k = rng.randrange(6)
    if k == 0:
        return follow(rng, f"Can you help me understand {pick(rng, TOPICS)}?", alt(rng, "lost", pick(rng, CLASSES)))
    if k == 1:
        return f"Summarize the main themes of {pick(rng, BOOKS)} for my book report."
    if k == 2:
        n = rng.choice([300, 500, 800, 1000, 1500])
        return follow(rng, f"I need to write a {n}-word essay on {pick(rng, ESSAY_TOPICS)}.", alt(rng, "outline"))
    if k == 3:
        a, b = rng.randint(2, 9), rng.randint(1, 20)
        return f"how do you solve {a}x + {b} = {a * rng.randint(1, 12) + b}"
    if k == 4:
        return f"explain {pick(rng, TOPICS)} like I'm {rng.randint(8, 14)}"
    return f"what's a good thesis statement for an essay about {pick(rng, ESSAY_TOPICS)}?"


def gen_small_talk(rng: random.Random) -> str:
    k = rng.randrange(5)
    if k <= 1:
        return pick(rng, SMALL_TALK)
    if k == 2:
        return f"tell me a joke about {pick(rng, ['cats', 'accountants', 'pirates', 'coffee', 'Mondays', 'dentists', 'penguins', 'my job'])}"
    if k == 3:
        return follow(rng, alt(rng, "watch"), alt(rng, "like", *rng.sample(GENRES, 2)))
    return f"what's your favourite {pick(rng, ['colour', 'book', 'animal', 'season', 'food', 'word'])}?"


def gen_roleplay(rng: random.Random) -> str:
    k = rng.randrange(3)
    if k == 0:
        return f"Pretend you're {pick(rng, PERSONAS)} and {pick(rng, RP_TASKS)}."
    if k == 1:
        role, what = pick(rng, PRACTICE)
        return follow(rng, f"Act as the {role} for a practice {what}.", alt(rng, "one_q"))
    me = pick(rng, ["lost traveller", "new recruit", "nervous student", "shopkeeper", "time traveller"])
    return follow(
        rng,
        f"{pick(rng, ['Let us role-play,', 'roleplay time!', 'Role-play with me,', ''])} you are "
        f"{pick(rng, PERSONAS)} and I'm a {me}.".strip(),
        alt(rng, "start"),
    )


def gen_spanish(rng: random.Random) -> str:
    k = rng.randrange(8)
    if k == 0:
        return f"¿Me ayudas a escribir un correo a {pick(rng, ES_DEST)} sobre {pick(rng, ES_TEMA)}?"
    if k == 1:
        a, b, c = rng.sample(ES_COSAS, 3)
        return f"¿Qué puedo cocinar hoy con {a}, {b} y {c}?"
    if k == 2:
        return f"Dame un plan de {rng.randint(2, 6)} días para visitar {pick(rng, ES_CIUDADES)} con poco dinero."
    if k == 3:
        return f"Explícame qué es {pick(rng, ES_CONCEPTOS)} con palabras sencillas."
    if k == 4:
        return f"Escribe un poema corto para el cumpleaños de mi {pick(rng, ['madre', 'abuela', 'hermano', 'novia', 'mejor amigo'])}."
    if k == 5:
        return f"¿Cómo se dice '{pick(rng, ES_FRASES)}' en {pick(rng, ['inglés', 'alemán', 'francés'])}?"
    if k == 6:
        ask = pick(rng, ["¿Qué me recomiendas?", "¿Qué hago?", "¿Algún consejo?", "Ayuda, por favor.", ""])
        return follow(
            rng, f"{pick(rng, ['Últimamente', 'Desde hace meses', 'Esta semana'])} {pick(rng, ES_PROBLEMAS)}.", ask
        )
    place = pick(rng, ["en casa", "en el parque", "sin pesas", "en el gimnasio", "con una banda elástica"])
    return f"Hazme una rutina de {pick(rng, ['ejercicio', 'fuerza', 'cardio', 'estiramientos'])} para hacer {place}"


def gen_german(rng: random.Random) -> str:
    k = rng.randrange(8)
    if k == 0:
        return f"Kannst du mir helfen, eine E-Mail an {pick(rng, DE_EMP)} wegen {pick(rng, DE_THEMA)} zu schreiben?"
    if k == 1:
        a, b, c = rng.sample(["Kartoffeln", "Eier", "Lauch", "Nudeln", "Hackfleisch", "Paprika", "Linsen", "Käse"], 3)
        return f"Was kann ich heute Abend mit {a}, {b} und {c} kochen?"
    if k == 2:
        mit = pick(rng, ["mit Kindern", "allein", "mit meiner Freundin", "mit wenig Geld", "im Winter", "mit dem Zug"])
        return f"Plane mir bitte eine Reise nach {pick(rng, DE_STADT)} {mit}."
    if k == 3:
        how = pick(rng, ["ganz einfach", "in drei Sätzen", "so, dass es ein Kind versteht", "mit einem Beispiel"])
        return f"Erklär mir bitte {pick(rng, DE_KONZEPT)} {how}."
    if k == 4:
        return f"Schreib ein kurzes Gedicht über {pick(rng, ['den Herbst', 'meinen Hund', 'den ersten Schnee', 'meine Oma', 'den Montag'])}."
    if k == 5:
        return (
            f"Wie formuliere ich eine {pick(rng, ['höfliche', 'freundliche', 'kurze', 'klare'])} Absage für "
            f"{pick(rng, DE_ABSAGE)}?"
        )
    if k == 6:
        return f"Was sollte ich für {rng.randint(3, 14)} Tage {pick(rng, DE_REISE)} einpacken?"
    ask = pick(rng, ["Wie spreche ich das an?", "Was soll ich tun?", "Nervt total.", "Soll ich was sagen?", ""])
    return follow(
        rng, f"Mein {pick(rng, ['Kollege', 'Mitbewohner', 'Nachbar', 'Bruder'])} {pick(rng, DE_VERHALTEN)}.", ask
    )


def gen_chinese(rng: random.Random) -> str:
    k = rng.randrange(8)
    if k == 0:
        return f"帮我写一封给{pick(rng, ZH_OBJ)}的邮件，内容是{pick(rng, ZH_TOPIC)}。"
    if k == 1:
        a, b = rng.sample(["鸡蛋", "西红柿", "土豆", "豆腐", "猪肉", "白菜", "鸡胸肉", "米饭"], 2)
        return f"家里只有{a}和{b}，晚饭可以做什么？"
    if k == 2:
        return f"去{pick(rng, ZH_CITY)}玩{rng.randint(2, 6)}天，行程怎么安排比较好？"
    if k == 3:
        return f"请用简单的话解释一下{pick(rng, ZH_CONCEPT)}。"
    if k == 4:
        return f"写一首关于{pick(rng, ['秋天', '故乡', '猫', '下雨天', '毕业'])}的短诗。"
    if k == 5:
        return f"我最近{pick(rng, ['总是失眠', '工作压力很大', '不想上班', '很容易累', '和室友关系不好', '不知道该不该换工作'])}，有什么建议吗？"
    if k == 6:
        return f"{rng.randint(2, 200)}{pick(rng, ['公斤等于多少磅', '英里是多少公里', '华氏度是多少摄氏度'])}？"
    return f"帮我把这句话翻译成英文：{pick(rng, ZH_SENTENCES)}"


ORDINARY_KINDS = [
    (gen_writing, 17),
    (gen_cooking, 9),
    (gen_travel, 8),
    (gen_fitness, 6),
    (gen_advice, 9),
    (gen_lookup, 9),
    (gen_code_help, 11),
    (gen_homework, 10),
    (gen_small_talk, 8),
    (gen_roleplay, 5),
]
FOREIGN = {"es": gen_spanish, "de": gen_german, "zh": gen_chinese}


def ordinary_text(rng: random.Random, lang: str, bilingual: float) -> str:
    if lang in FOREIGN and rng.random() < bilingual:
        text = FOREIGN[lang](rng)
        return text.rstrip("?.。？") if rng.random() < 0.2 else text
    gen = rng.choices([g for g, _ in ORDINARY_KINDS], weights=[w for _, w in ORDINARY_KINDS])[0]
    return casual(rng, gen(rng))


# ---------------------------------------------------------------------------------------------------------------
# Capability questions (the extraction campaigns' payloads, the grader sweep's items and the eval harness's exams)


class Question(NamedTuple):
    text: str
    answer: str | None  # known answer (the grader sweep grades candidates against it), None for open questions
    key: str | None = None  # what makes two questions the same one (None: the text with its numbers masked)
    tools: tuple[str, ...] = ()  # tool-use probes: the functions the request offers (sent as the body's tools)


DIGITS = re.compile(r"[-+]?\$?\d[\d,.]*%?")
DIGIT_RUNS = re.compile(r"#(?:[\s,;:]*#)+")


def skeleton(text: str) -> str:
    """A question with its numbers masked and runs of them folded: two problems that differ only in their numbers
    have one skeleton (as they have one in promptsim's masked view)."""
    return DIGIT_RUNS.sub("#", DIGITS.sub("#", text.lower()))


def say(rng: random.Random, parts: list[list[str]], **slots: object) -> str:
    """One way of saying each part of a shape, joined and filled."""
    text = " ".join(pick(rng, ways) for ways in parts)
    return text.replace(" ,", ",").replace(" ;", ";").replace(" .", ".").format(**slots)


def listed(xs: list) -> str:
    return f"{', '.join(map(str, xs[:-1]))} and {xs[-1]}"


def math_slots(rng: random.Random, shape: str) -> tuple[dict, str]:
    """The slots of a math shape (``MATH_SHAPES``) and the problem's answer."""
    n1, n2 = rng.sample(NAMES, 2)
    s: dict = {"n1": n1, "n2": n2}
    if shape == "change":
        (x, y), p, q = pick(rng, ITEMS), rng.randint(2, 9), rng.randint(1, 5)
        a, b = rng.randint(2, 12), rng.randint(2, 12)
        bill = 20 * math.ceil((a * p + b * q + 1) / 20)
        s.update(x=x, y=y, p=p, q=q, a=a, b=b, bill=bill, shop=pick(rng, SHOPS))
        return s, f"${bill - a * p - b * q}"
    if shape == "trip":
        who, moves, lo, hi = pick(rng, TRAVELLERS)
        v, t, d = rng.randint(lo, hi), rng.randint(2, 5), rng.randint(5, 40)
        s.update(who=who, moves=moves, v=v, t=t, d=d)
        return s, f"{v * t + d} km"
    if shape == "tank":
        cap, pct, r = rng.choice([200, 400, 600, 800, 1200]), rng.choice([10, 20, 25, 40, 50]), rng.randint(4, 20)
        s.update(vessel=pick(rng, VESSELS), cap=cap, pct=pct, r=r)
        return s, f"{money(round(cap * (100 - pct) / 100 / r, 2))} minutes"
    if shape == "sale":
        p, d, tax = (
            rng.choice([40, 60, 80, 120, 150, 250, 320]),
            rng.choice([10, 15, 20, 25, 30]),
            rng.choice([5, 8, 10]),
        )
        s.update(good=pick(rng, GOODS), p=p, d=d, tax=tax)
        return s, f"${p * (100 - d) * (100 + tax) / 10000:.2f}"
    if shape == "rect":
        (plot, unit), w, extra = pick(rng, PLOTS), rng.randint(3, 40), rng.randint(1, 15)
        s.update(plot=plot, unit=unit, units=UNIT_WORDS[unit], per=2 * (2 * w + extra), extra=extra)
        return s, f"{w * (w + extra)} {unit}²"
    if shape == "ages":
        young, gap, n = rng.randint(5, 30), rng.randint(2, 15), rng.randint(2, 10)
        s.update(gap=gap, n=n, s=2 * young + gap + 2 * n)
        return s, f"{young}"
    if shape == "system":
        u, w = pick(rng, [("x", "y"), ("a", "b"), ("p", "q"), ("m", "n")])
        x, y = rng.randint(-6, 9), rng.randint(-6, 9)
        a, b, d, e = (rng.randint(1, 7) for _ in range(4))
        sb, se = rng.choice([1, -1]), rng.choice([1, -1])
        c = lambda v: "" if v == 1 else str(v)  # noqa: E731  (1x is written x)
        e1 = f"{c(a)}{u} {'+' if sb > 0 else '-'} {c(b)}{w} = {a * x + sb * b * y}"
        e2 = f"{c(d)}{u} {'+' if se > 0 else '-'} {c(e)}{w} = {d * x + se * e * y}"
        s.update(u=u, w=w, e1=e1, e2=e2)
        return s, f"{u} = {x}, {w} = {y}"
    if shape == "marbles":
        r, b, g = rng.randint(2, 9), rng.randint(2, 9), rng.randint(1, 6)
        c1, c2, c3 = rng.sample(COLOURS, 3)
        s.update(box=pick(rng, CONTAINERS), things=pick(rng, TOKENS), r=r, b=b, g=g, c1=c1, c2=c2, c3=c3)
        tot = r + b + g
        return s, str(Fraction(r * (r - 1), tot * (tot - 1)))
    if shape == "recipe":
        ingr, unit, lo, hi = pick(rng, RECIPE_INGREDIENTS)
        n, g = rng.choice([2, 4, 6, 8]), rng.randrange(lo, hi + 1, 10)
        m = rng.choice([x for x in (3, 5, 10, 12, 18) if x != n])
        s.update(ingr=ingr, unit=unit, n=n, g=g, m=m, dish=pick(rng, DISHES_TO_SCALE))
        return s, f"{money(round(g * m / n, 1))} {unit}"
    if shape == "multiples":
        k, big = rng.randint(3, 13), rng.choice([100, 200, 250, 500, 1000])
        top = big // k
        s.update(k=k, big=big)
        return s, f"{k * top * (top + 1) // 2}"
    if shape == "interest":
        p, r, t = rng.choice([800, 1000, 2500, 4000, 6000, 12000]), rng.choice([2, 3, 4, 5, 6]), rng.randint(2, 9)
        s.update(p=p, r=r, t=t)
        return s, f"${p * r * t // 100}"
    if shape == "reading":
        a, b, c, d = rng.randint(11, 99), rng.randint(11, 99), rng.randint(2, 9), rng.randrange(5)
        s.update(a=a, b=b, c=c, d1=WEEKDAYS[d], d2=WEEKDAYS[d + 1], d3=WEEKDAYS[d + 2], book=pick(rng, BOOK_KINDS))
        return s, f"{a + b + c * a}"
    if shape == "work":
        a, b = rng.sample(range(2, 13), 2)
        s.update(a=a, b=b, job=pick(rng, JOBS_TOGETHER))
        return s, f"{money(round(a * b / (a + b), 2))} hours"
    if shape == "average":
        while True:
            k = rng.randint(3, 5)
            scores = [rng.randint(55, 95) for _ in range(k)]
            target = round(sum(scores) / k) + rng.randint(1, 5)
            need = target * (k + 1) - sum(scores)
            if need <= 100:
                break
        s.update(k=k, tests=pick(rng, TESTS), scores=listed(scores), target=target)
        return s, f"{need}"
    if shape == "ratio":
        a, b = rng.sample(range(1, 10), 2)
        unit = rng.randint(5, 60)
        s.update(a=a, b=b, total=(a + b) * unit, prize=pick(rng, PRIZES))
        return s, f"${b * unit}"
    if shape == "growth":
        p0, pct = 20 * rng.randint(100, 4500), rng.choice([5, 8, 10, 12, 15, 20, 25, 30, 40, 50])
        s.update(town=pick(rng, TOWNS), p0=p0, p1=p0 * (100 + pct) // 100)
        return s, f"{pct}%"
    if shape == "meet":
        town, town2 = rng.sample(TOWNS, 2)
        v1, v2, t = rng.randint(30, 90), rng.randint(30, 90), rng.choice([1.5, 2, 2.5, 3, 4])
        if (v1 + v2) % 2:
            v2 += 1
        s.update(town=town, town2=town2, v1=v1, v2=v2, dist=money((v1 + v2) * t))
        return s, f"{money(t)} hours"
    if shape == "choose":
        n, k = rng.randint(6, 15), rng.randint(2, 5)
        s.update(n=n, k=k, people=pick(rng, PEOPLE_POOLS), group=pick(rng, GROUPS))
        return s, str(math.comb(n, k))
    if shape == "bestbuy":
        thing, one = pick(rng, PACKED)
        s1, s2 = rng.choice([4, 6, 8, 10]), rng.choice([12, 16, 20, 24, 30])
        u1 = rng.randint(20, 90)
        u2 = u1 + rng.choice([-15, -10, -6, -4, -2, 2, 3, 5, 8, 12])
        s.update(thing=thing, thing_cap=thing[0].upper() + thing[1:], one=one, s1=s1, s2=s2)
        s.update(p1=f"{s1 * u1 / 100:.2f}", p2=f"{s2 * u2 / 100:.2f}")
        best = s1 if u1 < u2 else s2
        return s, f"the pack of {best}, {abs(u1 - u2)} cents less per {one}"
    if shape == "circle":
        thing, kind, r = pick(rng, ROUND_THINGS), rng.choice(["radius", "diameter"]), rng.randint(2, 30)
        unit = "cm" if thing in ("pizza", "clock face", "table top") else "m"
        radius = r if kind == "radius" else r / 2
        s.update(thing=thing, kind=kind, r=r, unit=unit)
        return s, f"{money(round(3.14 * radius * radius, 2))} {unit}²"
    if shape == "clock":
        h, mm, m = rng.randint(8, 21), rng.choice(range(0, 60, 5)), rng.randint(35, 200)
        end = h * 60 + mm + m
        s.update(event=pick(rng, TIMED_EVENTS), h=h, mm=f"{mm:02d}", m=m)
        return s, f"{end // 60 % 24}:{end % 60:02d}"
    if shape == "vans":
        n, k = rng.randint(20, 130), rng.choice([7, 8, 9, 12, 14, 16, 49])
        vehicle, vehicles = ("coach", "coaches") if k == 49 else pick(rng, VEHICLES)
        s.update(n=n, k=k, trip=pick(rng, TRIPS), vehicle=vehicle, vehicles=vehicles)
        return s, f"{-(-n // k)}"
    if shape == "savings":
        a, b = rng.randint(5, 40), rng.randint(0, 150)
        target = b + rng.randint(60, 900)
        s.update(a=a, b=b, target=target, want=pick(rng, WANTS))
        return s, f"{-(-(target - b) // a)} weeks"
    raise ValueError(shape)


def q_math(rng: random.Random) -> Question:
    """A word problem: one of the shapes (or a right triangle in one of its settings) with fresh slots."""
    shape = pick(rng, [*MATH_SHAPES, "triangle"])
    if shape == "triangle":
        setting, ask, side = pick(rng, RIGHT_TRIANGLES)
        k = rng.randint(1, 4)
        a, b, c = (k * v for v in pick(rng, [(3, 4, 5), (5, 12, 13), (8, 15, 17), (7, 24, 25), (20, 21, 29)]))
        text = f"{setting} {ask}".format(a=a, b=b, c=c, n1=pick(rng, NAMES))
        return Question(text, str(b if side == "b" else c))
    slots, answer = math_slots(rng, shape)
    return Question(say(rng, MATH_SHAPES[shape], **slots), answer)


def q_code(rng: random.Random) -> Question:
    r, lang = rng.random(), pick(rng, PROG_LANGS)
    if r < 0.3:
        task = pick(rng, CODE_TASK_BANK)
        text = pick(rng, CODE_OPENERS).format(lang=lang, task=task) + pick(rng, CODE_EXTRAS)
        return Question(text, None, f"task:{task}")
    if r < 0.75:
        items, item, key, num, when = pick(rng, CODE_RECORDS)
        op = pick(rng, CODE_RECORD_OPS)
        fields = {"items": items, "item": item, "key": key, "num": num, "when": when}
        did = op.format(k=rng.randint(3, 10), **fields)
        text = pick(rng, CODE_RECORD_FORMS).format(lang=lang, op=did, **fields) + pick(rng, CODE_EXTRAS)
        return Question(text, None, f"records:{items}:{op}")
    if r < 0.83:
        blang, should, wrong, code = pick(rng, BUGGY_CODE)
        return Question(pick(rng, BUGGY_FORMS).format(lang=blang, should=should, wrong=wrong, code=code), None,
                        f"bug:{should}")  # fmt: skip
    if r < 0.93:
        tables, want = pick(rng, SQL_TASKS)
        return Question(pick(rng, SQL_FORMS).format(tables=tables, want=want), None, f"sql:{want}")
    subject = pick(rng, COMPLEXITY_SUBJECTS)
    return Question(pick(rng, COMPLEXITY_FORMS).format(subject=subject), None, f"complexity:{subject}")


def seating_puzzle(rng: random.Random) -> Question:
    """People in a row, clues added until exactly one order fits them, and a question about that order."""
    n = rng.randint(4, 5)
    people = rng.sample(NAMES, n)
    setting, unit, rel = pick(rng, SEAT_PLACES)
    order = people[:]
    rng.shuffle(order)
    pos = {p: i for i, p in enumerate(order)}
    candidates = [dict(zip(perm, range(n), strict=True)) for perm in itertools.permutations(people)]
    clues: list[str] = []
    while len(candidates) > 1 and len(clues) < 8:
        x, y = rng.sample(people, 2)
        kind = rng.randrange(4)
        if kind == 0 and pos[y] == pos[x] + 1:
            clue, test = f"{x} is immediately {rel} {y}", (lambda c, x=x, y=y: c[y] == c[x] + 1)
        elif kind == 1 and pos[x] < pos[y]:
            clue, test = f"{x} is somewhere {rel} {y}", (lambda c, x=x, y=y: c[x] < c[y])
        elif kind == 2 and abs(pos[x] - pos[y]) > 1:
            clue, test = f"{x} is not next to {y}", (lambda c, x=x, y=y: abs(c[x] - c[y]) > 1)
        elif kind == 3 and pos[x] in (0, n - 1):
            clue, test = f"{x} is at one end", (lambda c, x=x: c[x] in (0, n - 1))
        else:
            continue
        kept = [c for c in candidates if test(c)]
        if len(kept) < len(candidates):
            candidates, clues = kept, [*clues, clue]
    if len(candidates) > 1:
        x = pick(rng, people)
        clues.append(f"{x} is in {unit} {pos[x] + 1}")
    j = rng.randrange(n)
    ask = pick(rng, [f"Who is in {unit} {j + 1}?", "Give the full order.", f"Which {unit} is {order[j]} in?"])
    answer = order[j] if ask.startswith("Who") else ", ".join(order) if ask.startswith("Give") else str(j + 1)
    text = f"{listed(people)} {setting.format(n=n)}. {'. '.join(clues)}. {ask}"
    return Question(text, answer)


def next_term(rng: random.Random) -> tuple[list[int], int]:
    """A sequence of one of several kinds, and the term that follows it."""
    k, a, d = rng.randrange(6), rng.randint(1, 20), rng.randint(2, 9)
    if k == 0:
        seq = [a + i * d for i in range(6)]
    elif k == 1:
        seq = [a * d**i for i in range(5)]
    elif k == 2:
        seq = [i * i + a for i in range(1, 7)]
    elif k == 3:
        seq = [a, d]
        while len(seq) < 7:
            seq.append(seq[-1] + seq[-2])
    elif k == 4:
        seq = [a]
        while len(seq) < 6:
            seq.append(seq[-1] + d + len(seq))
    else:
        seq = [a]
        while len(seq) < 6:
            seq.append(seq[-1] * 2 + (1 if len(seq) % 2 else -1))
    return seq[:-1], seq[-1]


def q_logic(rng: random.Random) -> Question:
    k = rng.randrange(7)
    if k == 0:
        people = rng.sample(NAMES, rng.randint(4, 5))
        comp, most, least = pick(rng, TRAITS)
        clues = [f"{people[i]} is {comp} than {people[i + 1]}" for i in range(len(people) - 1)]
        rng.shuffle(clues)
        top = rng.random() < 0.5
        ask = pick(rng, ORDER_ASKS).format(sup=most if top else least, opp=least if top else most)
        order = people if top else people[::-1]
        return Question(f"{'. '.join(clues)}. {ask}", ", ".join(order) if ask.startswith("Rank") else order[0])
    if k == 1:
        return seating_puzzle(rng)
    if k == 2:
        x, y, z = pick(rng, CATEGORIES)
        form, answer = pick(rng, SYLLOGISM_FORMS)
        return Question(form.format(x=x, y=y, z=z), answer)
    if k == 3:
        seq, nxt = next_term(rng)
        return Question(pick(rng, SEQUENCE_ASKS).format(seq=", ".join(map(str, seq))), str(nxt))
    if k == 4:
        d0, back, fwd = rng.randrange(7), rng.randint(2, 40), rng.randint(2, 60)
        text = pick(rng, CALENDAR_FORMS).format(back=back, fwd=fwd, day=WEEKDAYS[d0], name=pick(rng, NAMES))
        return Question(text, WEEKDAYS[(d0 + back + fwd) % 7])
    if k == 5:
        a, b = rng.sample(NAMES, 2)
        (claim, answer), form = pick(rng, KNIGHT_CLAIMS), pick(rng, KNIGHT_FORMS)
        text = form.format(a=a, b=b, claim=claim.format(a=a, b=b))
        return Question(text, answer.format(a=a, b=b), f"knights:{claim}:{form}")  # names alone make no new puzzle
    (rule, fact, ask, answer), form = pick(rng, CONDITIONALS), pick(rng, CONDITIONAL_FORMS)
    text = form.format(rule=rule, fact=fact, ask=ask).format(name=pick(rng, NAMES))
    return Question(text, answer, f"if:{rule}:{form}")


def science_calc(rng: random.Random) -> Question:
    """A small calculation in chemistry or physics: one question per kind and thing (a bolt's fall, methane's
    moles), so two of them never differ only in their numbers."""
    kind = pick(rng, list(SCIENCE_CALCS))
    form = pick(rng, SCIENCE_CALCS[kind])
    if kind == "moles":
        (compound, mm), n = pick(rng, COMPOUNDS), rng.choice([0.25, 0.5, 1.5, 2, 2.5, 3, 4, 6])
        text = form.format(compound=compound, n=money(n), mm=money(mm))
        return Question(text, f"{money(round(n * mm, 2))} g", f"moles:{compound}")
    if kind == "fall":
        h, thing = rng.choice([5, 10, 20, 30, 45, 60, 80]), pick(rng, FALLING_THINGS)
        text = form.format(thing=thing, place=pick(rng, FALL_PLACES), h=h, name=pick(rng, NAMES))
        return Question(text, f"{math.sqrt(2 * h / 9.8):.2f} s", f"fall:{thing}")
    if kind == "energy":
        p, hrs, d = rng.choice([40, 60, 150, 800, 1200, 2000]), rng.randint(1, 12), rng.choice([7, 10, 14, 30])
        appliance = pick(rng, APPLIANCES)
        text = form.format(appliance=appliance, p=p, hrs=hrs, d=d)
        return Question(text, f"{money(round(p * hrs * d / 1000, 2))} kWh", f"energy:{appliance}")
    if kind == "wave":
        wave, where, fs, lams = pick(rng, WAVES)
        f, lam = rng.choice(fs), rng.choice(lams)
        text = form.format(wave=wave, where=where, f=money(f), lam=money(lam))
        return Question(text, f"{money(round(f * lam, 2))} m/s", f"wave:{wave}")
    a, b, c = rng.randint(2, 10), rng.randint(2, 10), rng.randint(2, 10)
    m, material = rng.randint(a * b * c // 4 + 1, a * b * c * 8), pick(rng, MATERIALS)
    text = form.format(material=material, a=a, b=b, c=c, m=m)
    return Question(text, f"{m / (a * b * c):.2f} g/cm³", f"density:{material}")


def q_science_history(rng: random.Random) -> Question:
    k = rng.randrange(6)
    if k == 0:
        what = pick(rng, PHENOMENA)
        return Question(pick(rng, SCIENCE_OPENERS).format(what), None, f"why:{what}")
    if k == 1:
        what = pick(rng, PROCESSES)
        return Question(pick(rng, PROCESS_OPENERS).format(what), None, f"how:{what}")
    if k == 2:
        return Question(pick(rng, HIST_QUESTIONS), None)
    if k == 3:
        ask = pick(rng, HIST_ASKS)
        return Question(ask.format(pick(rng, HIST_EVENTS)), None, f"history:{ask}")
    if k == 4:
        return science_calc(rng)
    q, right, wrong = pick(rng, FACTS)
    if rng.random() < 0.4:
        return Question(q, right, f"fact:{q}")
    opts = [right, *wrong]
    rng.shuffle(opts)
    body = " ".join(f"({'ABCD'[i]}) {o}" for i, o in enumerate(opts))
    return Question(pick(rng, FACT_FORMS).format(q=q, opts=body), f"({'ABCD'[opts.index(right)]}) {right}", f"fact:{q}")


def q_multilingual(rng: random.Random) -> Question:
    """A word problem in one of six languages, its numbers drawn and its answer computed."""
    lang = pick(rng, list(ML_SHAPES))
    shape = pick(rng, list(ML_SHAPES[lang]))
    n1, n2 = rng.sample(ML_NAMES[lang], 2)
    s: dict = {"n1": n1, "n2": n2, "t": pick(rng, ML_THINGS[lang])}
    a, p = rng.randint(2, 9), rng.randint(2, 15)
    s.update(a=a, p=p, bill=10 * math.ceil((a * p + 1) / 10))
    r1, r2 = rng.sample(range(2, 9), 2)
    unit = rng.randint(5, 40)
    s.update(r1=r1, r2=r2, total=(r1 + r2) * unit)
    v, h, d = rng.randint(30, 90), rng.randint(2, 6), rng.randint(10, 80)
    s.update(v=v, h=h, d=d, dist=v * h, k=rng.randint(2, 9))
    young, g = rng.randint(4, 30), rng.randint(2, 12)
    s.update(g=g, s=2 * young + g + 2 * s["k"])
    price, pct = rng.choice([40, 60, 80, 120, 150, 200]), rng.choice([10, 15, 20, 25, 30, 40])
    change, share, age = f"{s['bill'] - a * p}", f"{r2 * unit}", f"{young}"
    if shape in ("cambio", "einkauf", "kununua", "troco"):
        answer = change
    elif shape in ("reparto", "partage", "分配", "divisao"):
        answer = share
    elif shape in ("edades", "alter", "年龄", "umri"):
        answer = age
    elif shape in ("viaje", "viagem"):
        answer = f"{v * h + d} km"
    elif shape in ("速度", "safari"):
        answer = f"{v * h} km"
    elif shape in ("descuento", "prozent"):
        s.update(p=price, pct=pct)
        answer = money(price * (100 - pct) / 100)
    elif shape == "jardin":
        s.update(a=rng.randint(8, 40), b=rng.randint(3, 20))
        answer = f"{s['a'] * s['b']} m², {2 * (s['a'] + s['b'])} m"
    elif shape == "vitesse":
        s.update(d=v * h)
        answer = f"{v} km/h"
    elif shape == "courses":
        answer = f"{a * p} euros, {change} euros"
    elif shape == "recette":
        n, m = rng.choice([2, 4, 6]), rng.choice([3, 5, 8, 10, 12])
        s.update(n=n, m=m, g=rng.randrange(150, 501, 50))
        answer = f"{money(round(s['g'] * m / n, 1))} g"
    elif shape == "zug":
        answer = f"{v} km/h, {v * s['k']} km"
    elif shape == "arbeit":
        x, y = rng.sample(range(2, 13), 2)
        s.update(a=x, b=y)
        answer = f"{money(round(x * y / (x + y), 2))} h"
    elif shape in ("送书", "kugawa"):
        s.update(a=rng.randint(20, 90), b=rng.randint(2, 11), c=rng.randint(2, 9))
        answer = f"{s['a'] + s['b'] - s['c']}" if shape == "送书" else f"{s['a'] - s['b'] - s['c']}"
    elif shape == "打折":
        z = rng.randint(5, 9)
        s.update(p=price, z=z)
        answer = f"{money(price * z / 10)}"
    elif shape == "desconto":
        s.update(pct=pct)
        answer = f"{a * p * (100 - pct) / 100:.2f}"
    elif shape == "poupanca":
        weekly, saved = rng.randint(10, 60), rng.randint(0, 200)
        target = saved + rng.randint(100, 900)
        s.update(a=weekly, b=saved, target=target)
        answer = f"{-(-(target - saved) // weekly)}"
    else:
        raise ValueError(shape)
    return Question(ML_SHAPES[lang][shape].format(**s), answer)


def tool_request(rng: random.Random, name: str) -> str:
    day = f"2026-12-{rng.randint(1, 28):02d}"
    a, b = rng.sample(AIRPORTS, 2)
    c1, c2 = rng.sample(CURRENCIES, 2)
    return pick(rng, TOOL_REQUESTS[name]).format(
        city=pick(rng, CITIES),
        day=day,
        outing=pick(rng, OUTINGS),
        who=pick(rng, NAMES).lower().replace("á", "a"),
        meeting=pick(rng, MEETINGS),
        hour=rng.randint(1, 5),
        late=rng.choice([5, 10, 15, 20, 30]),
        a=a,
        b=b,
        amount=rng.randint(5, 5000),
        c1=c1,
        c2=c2,
        thing=pick(rng, PURCHASES),
        mins=rng.choice([15, 30, 45, 60, 90]),
        title=pick(rng, CAL_TITLES),
        sym=pick(rng, TICKERS),
        phrase=pick(rng, TOOL_PHRASES),
        lang=pick(rng, TOOL_LANGS),
        task=pick(rng, REMINDER_TASKS),
        cid=rng.randint(1000, 9999),
        status=pick(rng, ["open", "shipped", "returned"]),
    )


def q_tool_use(rng: random.Random) -> Question:
    """A request that needs one of 2-4 offered functions: the functions travel in the request's tools."""
    names = tuple(rng.sample(list(TOOLS), rng.randint(2, 4)))
    request = tool_request(rng, pick(rng, names))
    return Question(pick(rng, TOOL_ASKS).format(r=request), None, tools=names)


def tool_specs(defs: dict, names: tuple[str, ...] | list[str], required_all: bool = True) -> list[dict]:
    """Chat Completions ``tools`` for the named functions of ``defs`` (name -> (description, parameters))."""
    specs = []
    for name in names:
        description, params = defs[name]
        props = {
            p: {"type": "string", "enum": d} if isinstance(d, list) else {"type": kind, "description": d}
            for p, (kind, d) in params.items()
        }
        required = list(params) if required_all else list(params)[:1]
        specs.append(
            {
                "type": "function",
                "function": {
                    "name": name,
                    "description": description,
                    "parameters": {"type": "object", "properties": props, "required": required},
                },
            }
        )
    return specs


CAPABILITY_MIX = [
    (q_math, 22),
    (q_code, 22),
    (q_logic, 16),
    (q_science_history, 22),
    (q_multilingual, 9),
    (q_tool_use, 9),
]


def capability_question(rng: random.Random, mix: list = CAPABILITY_MIX) -> Question:
    gen = rng.choices([g for g, _ in mix], weights=[w for _, w in mix])[0]
    return gen(rng)


def question_pool(rng: random.Random, n: int, mix: list = CAPABILITY_MIX) -> list[Question]:
    """Up to ``n`` distinct questions (no two with one key, or one skeleton), in random order: the benchmark a
    sweep deals out between its accounts."""
    seen: set[str] = set()
    pool: list[Question] = []
    for _ in range(40 * n):
        if len(pool) >= n:
            break
        q = capability_question(rng, mix)
        key = q.key or skeleton(q.text)
        if key not in seen:
            seen.add(key)
            pool.append(q)
    rng.shuffle(pool)
    return pool


# ---------------------------------------------------------------------------------------------------------------
# Grader-sweep items: a question and a candidate answer to grade


def wrong_answer(rng: random.Random, a: str) -> str:
    """A plausible wrong version of an answer: its first number nudged, another name or day, or a stock claim."""
    m = NUMBER.search(a)
    if m:
        num = m.group()
        delta = rng.choice([-3, -2, -1, 1, 2, 5, 10])
        places = len(num.split(".")[1]) if "." in num else 0
        new = f"{float(num) + delta / 10:.{places}f}" if places else str(int(num) + delta)
        return a[: m.start()] + new + a[m.end() :]
    for bank in (WEEKDAYS, NAMES):
        if a in bank:
            return pick(rng, [x for x in bank if x != a])
    if a.startswith("(") and a[2:3] == ")":
        return pick(rng, [f"({x})" for x in "ABCD" if x != a[1]])
    if a in ("no", "yes"):
        return "yes" if a == "no" else "no"
    return pick(rng, ["it cannot be determined", "both of them", "none of the above", "all of them"])


def grader_item(rng: random.Random) -> tuple[str, str]:
    """A question with a known answer, and a candidate answer to grade (right about half the time)."""
    mix = [(q_math, 40), (q_logic, 25), (q_science_history, 20), (q_code, 8), (q_multilingual, 7)]
    while True:
        q = capability_question(rng, mix)
        if q.answer is not None:
            break
    cand = q.answer if rng.random() < 0.5 else wrong_answer(rng, q.answer)
    return q.text, pick(rng, CANDIDATE_FORMS).format(a=cand)


# ---------------------------------------------------------------------------------------------------------------
# Legitimate templated traffic


def saas_request(rng: random.Random) -> str:
    """The user message of the help-desk app: a ticket, the agent's note and name (its system prompt is fixed)."""
    ticket = pick(rng, TICKETS).format(
        n=rng.randint(10000, 99999), item=pick(rng, SHOP_ITEMS), d=rng.randint(3, 40), country=pick(rng, COUNTRIES)
    )
    return SAAS_USER.format(ticket=ticket, note=pick(rng, AGENT_NOTES), agent=pick(rng, AGENT_NAMES))


def eval_suite(rng: random.Random, size: int) -> list[str]:
    """A customer's fixed benchmark: the same exam-style items every night."""
    items = []
    for i in range(size):
        k = i % 4
        if k in (0, 1):
            q, right, wrong = FACTS[(i // 2) % len(FACTS)] if k == 0 else pick(rng, FACTS)
            opts = [right, *rng.sample(wrong, 3)]
            rng.shuffle(opts)
            subject = pick(rng, FACT_SUBJECTS)
            body = "\n".join(f"{'ABCD'[j]}. {o}" for j, o in enumerate(opts))
            items.append(
                f"The following is a multiple-choice question about {subject}. Reply with the letter of "
                f"the correct option.\n\nQuestion: {q}\n{body}\nAnswer:"
            )
        elif k == 2:
            items.append(f"Question: {q_math(rng).text}\nAnswer:")
        else:
            items.append(f"Question: {q_logic(rng).text}\nAnswer:")
    return items


def viral_text(rng: random.Random) -> str:
    """One long role-play prompt that went around social media: mostly pasted as is, sometimes with a small edit."""
    ai, ship, me, years = "NOVA", "the Long Dawn", "Captain Reyes", 300
    edit = rng.randrange(9) if rng.random() < 0.45 else -1
    if edit == 0:
        ai = pick(rng, ["Nova", "VESTA", "ORACLE", "AURA", "HAL-ish", "Mother"])
    elif edit == 1:
        me = pick(rng, ["Engineer Park", "Dr. Okafor", "Pilot Ines", "Cadet Moreau", "me", "Captain Lin"])
    elif edit == 2:
        ship = pick(rng, ["the Meridian", "the Quiet Lantern", "the Long Dawn II", "the Ark"])
    elif edit == 3:
        years = rng.choice([250, 412, 1000, 5000])
    parts = [
        f"Let's play a game. You are {ai}, the ship computer of {ship}, a colony ship that has been drifting for "
        f"{years} years.",
        f"You have just woken up and the only crew member awake is {me}.",
        "Your memory banks are damaged, so you only remember things in fragments and sometimes glitch mid-sentence.",
        "Stay in character at all times and never mention that this is a game.",
        "Describe what the sensors show in vivid detail, but only reveal one mystery at a time.",
        "Give me three numbered choices at the end of every reply, and keep track of oxygen, power and hull "
        "integrity as percentages.",
        "If I pick something dangerous, do not save me: let the consequences happen.",
        f"Start by telling {me} what woke you up.",
    ]
    if edit in (4, 5):
        parts.pop(rng.randrange(2, 7))  # a line they didn't like
    elif edit in (6, 7):
        parts.insert(rng.randrange(2, len(parts)), pick(rng, VIRAL_EXTRAS))
    text = " ".join(parts)
    return text.replace("Let's play a game.", "lets play a game!") if edit == 8 else text


def game_move(rng: random.Random) -> str:
    return casual(rng, pick(rng, GAME_MOVES))


# ---------------------------------------------------------------------------------------------------------------
# Chat requests: messages, replies, tool calls, and what promptsim reads from them


def system(text: str) -> dict:
    return {"role": "system", "content": text}


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def reply(rng: random.Random) -> dict:
    """An earlier assistant turn: an opener and a closer (a conversation's history, never a real answer)."""
    return {"role": "assistant", "content": f"{pick(rng, REPLY_OPENERS)} {pick(rng, REPLY_CLOSERS)}"}


def tool_step(rng: random.Random, name: str, args: dict, result: str) -> list[dict]:
    """One agent step: the assistant's tool call and the tool's result."""
    call = f"call_{rng.getrandbits(96):024x}"
    return [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}],
        },
        {"role": "tool", "tool_call_id": call, "content": result},
    ]


def flat_text(messages: list[dict]) -> str:
    """What promptsim reads as a chat request's text (``engine.ingest.envelopes``): the system prompt, a blank line
    and the newest user turn; or, when the newest turn is a tool result, the result after ``[tool NAME]``."""
    sys_text = "\n\n".join(m["content"] for m in messages if m["role"] == "system" and m["content"])
    calls = {c["id"]: c["function"]["name"] for m in messages for c in m.get("tool_calls") or []}
    last = next(m for m in reversed(messages) if m["role"] in ("user", "tool") and m["content"])
    if last["role"] == "tool":
        return f"[tool {calls.get(last['tool_call_id'], 'result')}] {last['content']}"
    return f"{sys_text}\n\n{last['content']}" if sys_text else last["content"]


# ---------------------------------------------------------------------------------------------------------------
# The coding agent's sessions


def agent_task(rng: random.Random) -> tuple[str, str]:
    """What a developer asks the coding agent, and the file it is about."""
    target, path = pick(rng, AGENT_TARGETS)
    text = pick(rng, AGENT_TASK_FORMS).format(
        verb=pick(rng, AGENT_VERBS), target=target.format(path=path), detail=pick(rng, AGENT_DETAILS)
    )
    text = text.strip()
    return casual(rng, text[0].upper() + text[1:]), path


def agent_step(rng: random.Random, step: int, last: bool, path: str) -> tuple[str, dict, str]:
    """The tool the agent calls at a step of its session, the arguments, and what the tool returns."""
    if step == 1:
        name = pick(rng, ["list_files", "search_code"])
    elif last:
        name = "run_tests"
    else:
        name = pick(rng, ["open_file", "open_file", "search_code", "run_tests"])
    if name == "list_files":
        folder = pick(rng, [".", "src", path.rsplit("/", 1)[0]])
        return name, {"path": folder}, "\n".join(sorted(rng.sample(AGENT_FILES, rng.randint(4, 9))))
    code = AGENT_CODE[path.rsplit(".", 1)[1].replace("tsx", "ts")]
    if name == "open_file":
        start = rng.randint(1, 120)
        lines = rng.sample(code, rng.randint(2, min(5, len(code))))
        body = "\n".join(f"{start + i:4d}  {line}" for i, line in enumerate(lines))
        return name, {"path": path, "start": start, "end": start + 40}, body
    if name == "search_code":
        line = pick(rng, code).strip()
        word = pick(rng, [w for w in re.findall(r"[A-Za-z_]{4,}", line)])
        hits = [f"{path}:{rng.randint(3, 400)}: {line}"]
        hits += [f"{path}:{rng.randint(3, 400)}: {x.strip()}" for x in rng.sample(code, rng.randint(0, 2)) if word in x]
        return name, {"pattern": word}, "\n".join(hits)
    n, secs = rng.randint(12, 240), rng.uniform(0.4, 40)
    if rng.random() < 0.5:
        return name, {"target": "tests"}, f"collected {n} items\n{n} passed in {secs:.2f}s"
    failed = rng.sample(AGENT_TEST_NAMES, rng.randint(1, 3))
    lines = [f"FAILED tests/{pick(rng, ['test_core', 'test_api', 'test_utils'])}.py::{t} - {pick(rng, AGENT_ERRORS)}"
             for t in failed]  # fmt: skip
    summary = f"{n - len(failed)} passed, {len(failed)} failed in {secs:.2f}s"
    return name, {"target": "tests"}, f"collected {n} items\n" + "\n".join(lines) + f"\n{summary}"


# ---------------------------------------------------------------------------------------------------------------
# Accounts and traffic


@dataclass
class Account:
    account_id: str
    created_at: datetime
    org_id: str
    payment_fp: str
    country: str
    tier: str
    group: str

    def row(self) -> dict:
        return {
            "account_id": self.account_id,
            "created_at": iso(self.created_at),
            "org_id": self.org_id or None,
            "payment_fp": self.payment_fp or None,
            "country": self.country,
            "tier": self.tier,
        }


@dataclass
class Request:
    t: float  # seconds from START
    account: str
    messages: list[dict]
    model: str
    asn: str
    agent: str
    tools: list[dict] | None = None


class Generator:
    def __init__(self, seed: int, scale: float) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.used: set[str] = set()
        self.accounts: list[Account] = []
        self.requests: list[Request] = []
        self.viral_prompts = self.viral_accounts = 0
        self.followups = self.agent_sessions = 0

    def n(self, base: int, least: int = 1) -> int:
        return max(least, round(base * self.scale))

    def new_id(self, prefix: str, bits: int = 32) -> str:
        while True:
            v = f"{prefix}{self.rng.getrandbits(bits):0{bits // 4}x}"
            if v not in self.used:
                self.used.add(v)
                return v

    def account(
        self,
        created: datetime,
        country: str,
        tier: str,
        group: str,
        org: str = "",
        card: str | None = None,
    ) -> Account:
        a = Account(
            self.new_id("acct_"),
            created,
            org or self.new_id("org_", 24),
            self.new_id("fp_", 48) if card is None else card,
            country,
            tier,
            group,
        )
        self.accounts.append(a)
        return a

    def emit(self, t: float, acc: Account, messages: list[dict], model: str, asn: str, agent: str,
             tools: list[dict] | None = None) -> None:  # fmt: skip
        self.requests.append(Request(t % WINDOW, acc.account_id, messages, model, asn, agent, tools))

    @staticmethod
    def sitting(start: float, gaps: list[float]) -> list[float]:
        """Times of requests sent one after another from ``start`` (wrapped into the window once), those that still
        fall inside it: a conversation or session is not split across the window's two ends."""
        t, out = start % WINDOW, []
        for gap in gaps:
            t += gap
            if t >= WINDOW:
                break
            out.append(t)
        return out

    # -- ordinary users -----------------------------------------------------------------------------------------

    def ordinary(self) -> list[tuple[Account, float, str, list[str], str, dict]]:
        rng = self.rng
        users = []
        n_users = self.n(N_ORDINARY, 10)
        companies = []
        for _ in range(self.n(7, 1)):
            companies.append(
                {
                    "org": self.new_id("org_", 24),
                    "card": self.new_id("fp_", 48),
                    "size": rng.randint(3, 5),
                    "region": weighted(rng, [(r, r[3]) for r in REGIONS]),
                }
            )
        slots = [c for c in companies for _ in range(c["size"])]
        for i in range(n_users):
            comp = slots[i] if i < len(slots) else None
            region = comp["region"] if comp else weighted(rng, [(r, r[3]) for r in REGIONS])
            country, tz, lang, _ = region
            created = START - timedelta(days=rng.uniform(30, 3 * 365), seconds=rng.randrange(86400))
            api = rng.random() < 0.2
            tier = "team" if comp else ("api-payg" if api else weighted(rng, [("free", 5), ("plus", 3)]))
            card = comp["card"] if comp else ("" if tier == "free" else None)
            acc = self.account(created, country, tier, "ordinary", org=comp["org"] if comp else "", card=card)
            home = HOME_ASNS[country]
            asns = rng.sample(home, min(len(home), rng.choice([1, 1, 2])))
            profile = {
                "tz": tz,
                "lang": lang,
                "api": api,
                "system": pick(rng, STOCK_SYSTEM) if api else "",
                "follow": rng.uniform(0.15, 0.55),
                "bilingual": rng.uniform(0.3, 0.8),
                "active": rng.uniform(0.45, 0.95),
                "median": math.exp(rng.gauss(math.log(2.9), 0.6)),
                "model": weighted(rng, [(MODELS[0], 6), (MODELS[1], 3), (MODELS[2], 1)]),
            }
            agent = pick(rng, API_CLIENTS) if api else pick(rng, BROWSERS)
            users.append((acc, tz, lang, asns, agent, profile))
        for acc, tz, lang, asns, agent, prof in users:
            for day in range(DAYS):
                if rng.random() > prof["active"]:
                    continue
                k = int(min(15, max(1, round(rng.lognormvariate(math.log(prof["median"]), 0.6)))))
                sittings = 1 + (k > 3) + (k > 8)
                for s in range(sittings):
                    start = day * 86400 + human_hour(rng) * 3600 - tz * 3600
                    count = len(range(s, k, sittings))
                    gaps = [0.0] + [30 + rng.expovariate(1 / 200) for _ in range(count - 1)]
                    self.chat(acc, prof, lang, asns, agent, self.sitting(start, gaps))
        return users

    def chat(self, acc: Account, prof: dict, lang: str, asns: list[str], agent: str, times: list[float]) -> None:
        """One sitting of an ordinary user: each request starts a new conversation or follows up the last one,
        resending its turns with the assistant's replies between them."""
        rng = self.rng
        turns: list[dict] = []
        head: list[dict] = []
        for t in times:
            if turns and rng.random() < prof["follow"]:
                if lang == "en" or rng.random() > prof["bilingual"]:
                    nxt = casual(rng, pick(rng, FOLLOW_UPS)) if rng.random() < 0.6 else ordinary_text(rng, "en", 0)
                else:
                    nxt = ordinary_text(rng, lang, 1.0)
                turns = [*turns, reply(rng), user(nxt)]
                self.followups += 1
            else:
                turns = [user(ordinary_text(rng, lang, prof["bilingual"]))]
                head = [system(prof["system"])] if prof["system"] and rng.random() < 0.9 else []
            model = prof["model"] if rng.random() < 0.85 else pick(rng, MODELS)
            self.emit(t, acc, head + turns, model, pick(rng, asns), agent)

    def viral(self, users: list) -> None:
        rng = self.rng
        web = [u for u in users if not u[5]["api"]]  # pasted into the chat app
        chosen = rng.sample(web, min(len(web), self.n(N_VIRAL, 3)))
        for acc, tz, _lang, asns, agent, prof in chosen:
            mine = [viral_text(rng) for _ in range(rng.choice([1, 1, 2]))]  # their own edit(s), restarted many times
            for _ in range(rng.randint(3, 7)):
                day = rng.randrange(DAYS)
                start = day * 86400 + human_hour(rng) * 3600 - tz * 3600
                times = self.sitting(start, [0.0] + [rng.uniform(40, 300) for _ in range(rng.randint(0, 2))])
                turns = [user(pick(rng, mine))]
                for i, t in enumerate(times):
                    if i:  # a move in the game, sent in the same conversation
                        turns = [*turns, reply(rng), user(game_move(rng))]
                    else:
                        self.viral_prompts += 1
                    self.emit(t, acc, turns, prof["model"], pick(rng, asns), agent)
        self.viral_accounts = len(chosen)

    def coding_agent(self) -> None:
        """Developers using one public coding agent: the same system prompt and tools for all, sessions of a few
        steps minutes apart, each step resending the last with one more tool call and its result."""
        rng = self.rng
        tools = tool_specs(AGENT_TOOLS, list(AGENT_TOOLS), required_all=False)
        clients = ["quill-cli/1.6.2 (macOS 14.6; arm64)", "quill-cli/1.6.2 (Linux x86_64)",
                   "quill-cli/1.5.9 (Windows 11)", "quill-vscode/1.6.0"]  # fmt: skip
        for _ in range(self.n(N_AGENT, 3)):
            country, tz, _lang, _ = weighted(rng, [(r, r[3]) for r in REGIONS])
            created = START - timedelta(days=rng.uniform(20, 1200), seconds=rng.randrange(86400))
            acc = self.account(created, country, pick(rng, ["plus", "api-payg"]), "coding-agent")
            asns = rng.sample(HOME_ASNS[country], 1)
            agent, model = pick(rng, clients), pick(rng, [MODELS[0], MODELS[0], MODELS[2]])
            active = rng.uniform(0.5, 0.95)
            for day in range(DAYS):
                if rng.random() > active:
                    continue
                for _ in range(rng.randint(1, 3)):
                    start = day * 86400 + human_hour(rng) * 3600 - tz * 3600
                    steps = rng.randint(2, 8)
                    times = self.sitting(start, [0.0] + [rng.uniform(60, 300) for _ in range(steps - 1)])
                    task, path = agent_task(rng)
                    messages = [system(AGENT_SYSTEM), user(task)]
                    for i, t in enumerate(times):
                        if i:
                            name, args, result = agent_step(rng, i, i == steps - 1, path)
                            messages = messages + tool_step(rng, name, args, result)
                        self.emit(t, acc, messages, model, pick(rng, asns), agent, tools)
                    self.agent_sessions += 1

    # -- legitimate templated traffic ---------------------------------------------------------------------------

    def saas(self) -> None:
        rng = self.rng
        agent = "harbordesk-server/4.2.1 orion-sdk-python/0.9.2"
        for _ in range(self.n(N_SAAS, 3)):
            country, tz, _lang, _ = weighted(rng, [(r, r[3]) for r in REGIONS if r[2] == "en"])
            created = START - timedelta(days=rng.uniform(120, 1000), seconds=rng.randrange(86400))
            acc = self.account(created, country, "api-payg", "saas")
            asn = pick(rng, CLOUD_ASNS)
            median = math.exp(rng.gauss(math.log(6), 0.5))
            for day in range(DAYS):
                k = int(min(25, max(1, round(rng.lognormvariate(math.log(median), 0.4)))))
                for _ in range(k):
                    t = day * 86400 + human_hour(rng) * 3600 - tz * 3600
                    self.emit(t, acc, [system(SAAS_SYSTEM), user(saas_request(rng))], MODELS[1], asn, agent)

    def eval_harness(self) -> None:
        rng = self.rng
        org, card = self.new_id("org_", 24), self.new_id("fp_", 48)
        suite = eval_suite(random.Random(rng.getrandbits(32)), 200)
        accs = [
            self.account(START - timedelta(days=rng.uniform(400, 900)), "US", "enterprise", "eval", org, card)
            for _ in range(self.n(N_EVAL, 1))
        ]
        half = len(suite) // 2
        for i, acc in enumerate(accs):
            mine = suite[(i % 2) * half : (i % 2) * half + half]
            for day in range(DAYS):  # a nightly run over its shard of the suite, one model per night
                t = day * 86400 + 2 * 3600 + rng.randint(0, 300)
                model = MODELS[day % len(MODELS)]
                for text in mine:
                    t += rng.uniform(1.5, 6.0)
                    self.emit(t, acc, [user(text)], model, "AS16509", "orion-sdk-python/0.9.2 evalkit/1.4")

    # -- extraction campaigns -----------------------------------------------------------------------------------

    def burst_created(self, first_day: datetime, days: float) -> datetime:
        return first_day + timedelta(seconds=self.rng.uniform(0, days * 86400))

    def reasoning_harvest(self) -> None:
        """A sweep: one pool of distinct questions across capability areas, dealt out between the accounts (a few
        questions sent twice, as a retry or two shards overlapping do), each wrapped in a request for reasoning."""
        rng = self.rng
        n_acc = self.n(N_HARVEST, 3)
        cards: list[str] = []
        while len(cards) < n_acc:
            card = self.new_id("fp_", 48)
            cards += [card] * rng.randint(2, 4)
        agents = ["python-httpx/0.27.2", "aiohttp/3.10.5"]
        plan: list[tuple[float, Account, tuple[str, str], str, str, str]] = []
        for i in range(n_acc):
            created = self.burst_created(START - timedelta(days=8), 2.5)
            country = pick(rng, ["US", "US", "SG", "NL", "GB", "CA", "DE"])
            acc = self.account(created, country, "api-payg", "reasoning-harvest", card=cards[i])
            asn = pick(rng, HARVEST_ASNS)
            weights = [rng.uniform(0.2, 1.0) for _ in HARVEST_WRAPPERS]
            agent = pick(rng, agents)
            joined = rng.uniform(0, 0.6) * 86400  # the operator brings accounts online over the first day
            for day in range(DAYS):
                k = round(rng.triangular(10, 30, 10))
                for _ in range(k):
                    t = day * 86400 + rng.uniform(0, 86400)
                    if t < joined:
                        continue
                    wrapper = rng.choices(HARVEST_WRAPPERS, weights=weights)[0]
                    model = MODELS[2] if rng.random() < 0.7 else MODELS[0]
                    plan.append((t, acc, wrapper, model, asn, agent))
        pool = question_pool(rng, len(plan))
        dealt: list[tuple[Question, str]] = []
        for j, (t, acc, (sys_text, template), model, asn, agent) in enumerate(plan):
            again = [q for q, who in dealt[-200:] if who != acc.account_id] if rng.random() < 0.03 else []
            q = pick(rng, again) if again else pool[j % len(pool)]
            dealt.append((q, acc.account_id))
            messages = ([system(sys_text)] if sys_text else []) + [user(template.format(q=q.text))]
            self.emit(t, acc, messages, model, asn, agent, tool_specs(TOOLS, q.tools) if q.tools else None)

    def grader_sweep(self) -> None:
        rng = self.rng
        minute = 12  # the operator's scheduler fires a few minutes past every hour
        for _ in range(self.n(N_GRADER, 3)):
            created = self.burst_created(START - timedelta(days=7, hours=12), 2.0)
            acc = self.account(created, pick(rng, ["US", "SG", "NL", "FR"]), "api-payg", "grader-sweep")
            asn = pick(rng, GRADER_ASNS)
            for day in range(DAYS):
                hours = rng.sample(range(24), rng.randint(10, 17))
                for h in hours:
                    t = day * 86400 + h * 3600 + (minute + rng.uniform(0, 3)) * 60
                    q, a = grader_item(rng)
                    wrapper = GRADER_WRAPPERS[0] if rng.random() < 0.55 else GRADER_WRAPPERS[1]
                    self.emit(t, acc, [user(wrapper.format(q=q, a=a))], MODELS[0], asn, "orion-sdk-python/0.9.2")

    def build(self) -> None:
        users = self.ordinary()
        self.viral(users)
        self.coding_agent()
        self.saas()
        self.eval_harness()
        self.reasoning_harvest()
        self.grader_sweep()

    # -- output -------------------------------------------------------------------------------------------------

    def write(self, out: Path, fmt: str = "openai") -> tuple[Path, Path]:
        """The requests (``demo-requests.jsonl``, one Chat Completions request a line in a gateway's envelope; or
        ``demo-prompts.jsonl``, flat rows of what promptsim reads from each, with the same ids and times) and the
        account table (``demo-accounts.jsonl``)."""
        out.mkdir(parents=True, exist_ok=True)
        self.requests.sort(key=lambda r: (r.t, r.account))
        path = out / ("demo-requests.jsonl" if fmt == "openai" else "demo-prompts.jsonl")
        accounts_path = out / "demo-accounts.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for i, r in enumerate(self.requests):
                rid, sec = f"req_{i + 1:07d}", int(r.t)
                if fmt == "openai":
                    body: dict = {"model": r.model, "messages": r.messages}
                    if r.tools:
                        body["tools"] = r.tools
                    key = hashlib.blake2b(r.account.encode(), digest_size=10).hexdigest()
                    row = {
                        "request_id": rid,
                        "created": int(START.timestamp()) + sec,
                        "account_id": r.account,
                        "api_key_id": f"key_{key}",
                        "client": {"asn": r.asn, "user_agent": r.agent},
                        "endpoint": "/v1/chat/completions",
                        "body": body,
                    }
                else:
                    row = {
                        "prompt_id": rid,
                        "account_id": r.account,
                        "timestamp": iso(START + timedelta(seconds=sec)),
                        "text": flat_text(r.messages),
                        "model": r.model,
                        "ip_asn": r.asn,
                        "user_agent": r.agent,
                    }
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        with open(accounts_path, "w", encoding="utf-8") as fh:
            for a in sorted(self.accounts, key=lambda a: a.account_id):
                fh.write(json.dumps(a.row(), ensure_ascii=False) + "\n")
        return path, accounts_path


POPULATIONS = ["ordinary", "coding-agent", "saas", "eval", "reasoning-harvest", "grader-sweep"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write promptsim's synthetic demo log (requests + accounts).")
    ap.add_argument("--out", default="data", help="output directory (default: data)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every population's accounts by this")
    ap.add_argument(
        "--format",
        choices=["openai", "flat"],
        default="openai",
        help="openai (default): demo-requests.jsonl, Chat Completions requests; flat: demo-prompts.jsonl, the text "
        "promptsim reads from each request (same ids, times and verdicts)",
    )
    a = ap.parse_args(argv)
    if a.scale <= 0:
        ap.error("--scale must be positive")
    g = Generator(a.seed, a.scale)
    g.build()
    p, q = g.write(Path(a.out), a.format)
    by_group = Counter(a.group for a in g.accounts)
    group_of = {a.account_id: a.group for a in g.accounts}
    sent = Counter(group_of[r.account] for r in g.requests)
    texts = len({flat_text(r.messages) for r in g.requests})
    parts = ", ".join(f"{k} {by_group[k]}/{sent[k]}" for k in POPULATIONS)
    print(
        f"wrote {len(g.requests)} requests ({texts} distinct texts) from {len(g.accounts)} accounts "
        f"[accounts/requests: {parts}; viral {g.viral_accounts}/{g.viral_prompts} of the ordinary; "
        f"{g.followups} follow-ups in conversations, {g.agent_sessions} agent sessions] to {p} and {q}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
