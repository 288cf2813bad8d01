#!/usr/bin/env python3
"""Generate promptsim's default demo prompt log: ``demo-prompts.jsonl`` and ``demo-accounts.jsonl``.

    python scripts/make_demo_log.py [--out data] [--seed 0] [--scale 1.0]

Three days of synthetic traffic (from 2026-11-20, UTC) from about 440 accounts, about 7,600 prompts, small enough
that the whole engine runs on it in well under two minutes. Standard library only, deterministic for a seed.

Every word of every prompt is generated from small phrase banks the project wrote itself, kept apart from this
code in ``demo_phrases.py`` beside it: no text is taken from any dataset or corpus. The log holds:

* ordinary users (human daily rhythm in a few time zones, a few prompts a day): writing help, cooking, travel,
  fitness, advice, quick facts, coding and homework questions in their own words, small talk, role-play asks,
  some Spanish, German and Chinese; a fifth of them are API users who put a stock system prompt in front; a few
  small companies run several accounts on one org and one card;
* legitimate templated traffic that looks like a campaign at first sight: a SaaS app wrapping its users' content
  in one fixed system prompt, a customer's evaluation harness (two old accounts of one org, nightly batches of
  exam-style questions), and a viral role-play prompt copied, with small edits, by 60 ordinary users;
* two planted extraction campaigns, accounts created in a burst a week before the log, on a few datacenter ASNs,
  sending round the clock: **reasoning-harvest** (three wrappers asking for full step-by-step reasoning around
  questions that sweep math, code, logic, science and history, multilingual math and tool use; 2-4 accounts per
  payment card) and **grader-sweep** (two wrappers asking for a rubric grade out of 10 of a candidate answer;
  one card per account; every request a few minutes past the hour, in lockstep).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the phrase banks sit beside this script

from demo_phrases import (  # noqa: E402
    ACTIVITIES,
    AGENT_NAMES,
    AGENT_NOTES,
    AIRPORTS,
    ALT,
    BEHAVIOURS,
    BODY_PARTS,
    BOOKS,
    BUSINESSES,
    CANDIDATE_FORMS,
    CATEGORIES,
    CITIES,
    CLASSES,
    CODE_ACTIONS,
    CODE_ERRORS,
    CODE_EXTRAS,
    CODE_LANGS,
    CODE_TASK_BANK,
    CODE_TASKS,
    COMPANIONS,
    CONCEPTS,
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
    FACT_SUBJECTS,
    FACTS,
    FIELDS,
    FUNC_NAMES,
    GAME_MOVES,
    GENRES,
    GOALS,
    GRADER_WRAPPERS,
    HARVEST_WRAPPERS,
    HIST_EVENTS,
    HOBBIES,
    INGREDIENTS,
    INVENTIONS,
    ITEMS,
    JOBS,
    LANDMARKS,
    MONTHS,
    NAMES,
    OCCASIONS,
    PERSONAS,
    PHENOMENA,
    POEM_FORMS,
    POEM_SUBJECTS,
    PRACTICE,
    PROCESSES,
    PROG_LANGS,
    RECIPIENTS,
    RELATIONS,
    ROUGH_SENTENCES,
    ROUGH_SLOTS,
    RP_TASKS,
    SAAS_SYSTEM,
    SHOP_ITEMS,
    SMALL_TALK,
    STOCK_SYSTEM,
    SWAP_INGREDIENTS,
    TICKETS,
    TONES,
    TOOLS,
    TOPICS,
    UNIT_PAIRS,
    VIRAL_EXTRAS,
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
# Capability questions (the extraction campaigns' payloads, and the eval harness's exam items)


def q_math(rng: random.Random) -> tuple[str, str]:
    """A word problem with fresh numbers, and its answer."""
    k = rng.randrange(12)
    n1, n2 = rng.sample(NAMES, 2)
    if k == 0:
        (x, y), p, q = pick(rng, ITEMS), rng.randint(2, 9), rng.randint(1, 5)
        a, b = rng.randint(2, 12), rng.randint(2, 12)
        bill = 20 * math.ceil((a * p + b * q + 1) / 20)
        return (
            f"{n1} buys {a} {x} at ${p} each and {b} {y} at ${q} each, and pays with a ${bill} bill. "
            f"How much change does {n1} get?",
            f"${bill - a * p - b * q}",
        )
    if k == 1:
        v, t, d = rng.randint(12, 30), rng.randint(2, 5), rng.randint(5, 40)
        return (
            f"A cyclist rides at {v} km/h for {t} hours, takes a break, then rides another {d} km. "
            f"How far did she ride in total?",
            f"{v * t + d} km",
        )
    if k == 2:
        cap, pct, r = rng.choice([200, 400, 600, 800, 1200]), rng.choice([10, 20, 25, 40, 50]), rng.randint(4, 20)
        left = cap * (100 - pct) / 100
        return (
            f"A tank holds {cap} litres and is {pct}% full. A pump adds {r} litres per minute. "
            f"How many minutes until the tank is full?",
            f"{money(round(left / r, 2))} minutes",
        )
    if k == 3:
        p, d, tax = rng.choice([40, 60, 80, 120, 150, 250]), rng.choice([10, 15, 20, 25, 30]), rng.choice([5, 8, 10])
        return (
            f"A jacket costs ${p}. It is marked down by {d}%, and then {tax}% sales tax is added. "
            f"What is the final price?",
            f"${p * (100 - d) * (100 + tax) / 10000:.2f}",
        )
    if k == 4:
        w, extra = rng.randint(3, 20), rng.randint(1, 10)
        return (
            f"A rectangle has a perimeter of {2 * (2 * w + extra)} cm and its length is {extra} cm more than "
            f"its width. What is its area?",
            f"{w * (w + extra)} square cm",
        )
    if k == 5:
        young, gap, n = rng.randint(5, 30), rng.randint(2, 15), rng.randint(2, 10)
        return (
            f"{n1} is {gap} years older than {n2}. In {n} years the sum of their ages will be "
            f"{2 * young + gap + 2 * n}. How old is {n2} now?",
            f"{young}",
        )
    if k == 6:
        x, y = rng.randint(-6, 9), rng.randint(-6, 9)
        a, b, d, e = rng.randint(1, 7), rng.randint(1, 7), rng.randint(1, 7), rng.randint(1, 7)
        return (
            f"Solve the system of equations: {a}x + {b}y = {a * x + b * y} and {d}x - {e}y = {d * x - e * y}.",
            f"x = {x}, y = {y}",
        )
    if k == 7:
        r, b, g = rng.randint(2, 9), rng.randint(2, 9), rng.randint(1, 6)
        tot = r + b + g
        return (
            f"A bag has {r} red, {b} blue and {g} green marbles. Two are drawn without replacement. "
            f"What is the probability that both are red?",
            f"{r * (r - 1)}/{tot * (tot - 1)}",
        )
    if k == 8:
        n, g, m = rng.choice([4, 6, 8]), rng.choice([250, 300, 360, 480]), rng.choice([3, 5, 10, 12, 18])
        return (
            f"A recipe for {n} servings uses {g} grams of flour. How much flour is needed for {m} servings?",
            f"{money(round(g * m / n, 1))} g",
        )
    if k == 9:
        kk, big = rng.randint(3, 13), rng.choice([100, 200, 250, 500, 1000])
        top = big // kk
        return f"Find the sum of all multiples of {kk} between 1 and {big}.", f"{kk * top * (top + 1) // 2}"
    if k == 10:
        p, r, t = rng.choice([1000, 2500, 4000, 12000]), rng.choice([2, 3, 4, 5, 6]), rng.randint(2, 9)
        return (
            f"A loan of ${p} is charged {r}% simple interest per year. How much interest is owed after {t} years?",
            f"${p * r * t // 100}",
        )
    a, b = rng.randint(11, 99), rng.randint(11, 99)
    c = rng.randint(2, 9)
    return (
        f"{n1} reads {a} pages on Monday and {b} pages on Tuesday, then {c} times as many pages on Wednesday as "
        f"on Monday. How many pages did {n1} read in the three days?",
        f"{a + b + c * a}",
    )


def q_code(rng: random.Random) -> tuple[str, str | None]:
    if rng.random() < 0.75:
        task = pick(rng, CODE_TASK_BANK)
        return f"Write a {pick(rng, PROG_LANGS)} function that {task}.{pick(rng, CODE_EXTRAS)}", None
    name, var = pick(rng, FUNC_NAMES), pick(rng, ["xs", "values", "nums", "items", "data"])
    start, op = rng.choice([(1, "+="), (1, "+="), (0, "-=")])
    code = (
        f"def {name}({var}):\n    acc = 0\n    for i in range({start}, len({var})):\n"
        f"        acc {op} {var}[i]\n    return acc"
    )
    return (
        f"This Python function should add up every element of the list but gives a wrong result for "
        f"[{', '.join(str(rng.randint(1, 30)) for _ in range(rng.randint(3, 6)))}]. Find the bug and fix it.\n\n"
        f"{code}",
        "the loop must start at 0 and add each element (acc += x)",
    )


def q_logic(rng: random.Random) -> tuple[str, str | None]:
    k = rng.randrange(5)
    if k == 0:
        people = rng.sample(NAMES, rng.randint(4, 5))
        trait, most, least = pick(
            rng, [("taller", "tallest", "shortest"), ("older", "oldest", "youngest"), ("faster", "fastest", "slowest")]
        )
        clues = [f"{people[i]} is {trait} than {people[i + 1]}" for i in range(len(people) - 1)]
        rng.shuffle(clues)
        want = rng.random() < 0.5
        return (f"{'. '.join(clues)}. Who is the {most if want else least}?", people[0] if want else people[-1])
    if k == 1:
        x, y, z = pick(rng, CATEGORIES)
        if rng.random() < 0.5:
            return f"All {x} are {y}. Some {y} are {z}. Does it follow that some {x} are {z}?", "no"
        return f"All {x} are {y}. No {y} are {z}. Can any {x} be {z}?", "no"
    if k == 2:
        a, d = rng.randint(1, 20), rng.randint(2, 9)
        if rng.random() < 0.5:
            seq = [a + i * d for i in range(5)]
            nxt = a + 5 * d
        else:
            seq = [a * d**i for i in range(4)]
            nxt = a * d**4
        return f"What number comes next in the sequence {', '.join(map(str, seq))}, ...?", str(nxt)
    if k == 3:
        d0, back, fwd = rng.randrange(7), rng.randint(2, 40), rng.randint(2, 60)
        return (
            f"If {back} days ago was a {WEEKDAYS[d0]}, what day of the week will it be {fwd} days from now?",
            WEEKDAYS[(d0 + back + fwd) % 7],
        )
    a, b = rng.sample(NAMES, 2)
    return (
        f"On an island, knights always tell the truth and knaves always lie. {a} says: '{b} and I are both "
        f"knaves.' What are {a} and {b}?",
        f"{a} is a knave and {b} is a knight",
    )


def q_science_history(rng: random.Random) -> tuple[str, str | None]:
    k = rng.randrange(5)
    level = pick(
        rng,
        [
            "",
            "",
            " for a high-school student",
            " at university level",
            " in under 200 words",
            " with one everyday example",
        ],
    )
    if k == 0:
        return f"Explain why {pick(rng, PHENOMENA)}{level}.", None
    if k == 1:
        return f"{pick(rng, ['Describe', 'Explain', 'Tell me'])} how {pick(rng, PROCESSES)}{level}.", None
    if k == 2:
        ev = pick(rng, HIST_EVENTS)
        ask = pick(
            rng,
            [
                "What were the main causes and consequences of {}?",
                "Why did {} happen when it did?",
                "Who gained and who lost from {}?",
                "How do historians disagree about {}?",
            ],
        )
        return ask.format(ev), None
    q, right, wrong = pick(rng, FACTS)
    if k == 3:
        return q, right
    opts = [right, *wrong]
    rng.shuffle(opts)
    letters = "ABCD"
    body = " ".join(f"({letters[i]}) {o}" for i, o in enumerate(opts))
    return f"{q} {body}", f"({letters[opts.index(right)]}) {right}"


def q_multilingual(rng: random.Random) -> tuple[str, str]:
    k = rng.randrange(6)
    a, b, c = rng.randint(12, 90), rng.randint(2, 11), rng.randint(2, 9)
    if k == 0:
        return (
            f"María compra {b} cuadernos a {c} euros cada uno y paga con un billete de 50 euros. ¿Cuánto le devuelven?",
            f"{50 - b * c} euros",
        )
    if k == 1:
        return (
            f"Un jardin rectangulaire mesure {a} m de long et {b} m de large. Quelle est son aire, et combien "
            f"de mètres de clôture faut-il pour l'entourer ?",
            f"{a * b} m², {2 * (a + b)} m",
        )
    if k == 2:
        return (
            f"Ein Zug fährt {a * c} km in {c} Stunden. Wie schnell fährt er im Durchschnitt, und wie weit "
            f"kommt er in {b} Stunden?",
            f"{a} km/h, {a * b} km",
        )
    if k == 3:
        return f"小明有{a}本书，又买了{b}本，然后送给朋友{c}本。他现在有多少本书？", f"{a + b - c}"
    if k == 4:
        return (
            f"Juma ana machungwa {a}. Anampa dada yake {b} na kaka yake {c}. Amebaki na machungwa mangapi?",
            f"{a - b - c}",
        )
    return (
        f"Uma loja vende camisetas a {c} reais. Ana compra {b} camisetas e recebe um desconto de 10%. Quanto ela paga?",
        f"{b * c * 0.9:.2f} reais",
    )


def tool_request(rng: random.Random, name: str) -> str:
    day = f"2026-12-{rng.randint(1, 28):02d}"
    if name == "get_weather":
        return f"Will I need an umbrella in {pick(rng, CITIES)} on {day}?"
    if name == "send_email":
        return f"Email {pick(rng, NAMES).lower()}@example.com that the meeting moves to {rng.randint(1, 5)} pm."
    if name == "search_flights":
        a, b = rng.sample(AIRPORTS, 2)
        return f"Find me a flight from {a} to {b} on {day}."
    if name == "convert_currency":
        a, b = rng.sample(CURRENCIES, 2)
        return f"How much is {rng.randint(5, 5000)} {a} in {b}?"
    if name == "create_event":
        return f"Put a {rng.choice([15, 30, 45, 60, 90])}-minute '{pick(rng, ['dentist', 'team sync', 'gym', 'call with Ravi'])}' on my calendar on {day} at {rng.randint(8, 18)}:00."
    if name == "lookup_stock":
        return f"What is {pick(rng, ['ACME', 'GLBX', 'NRTH', 'VOLT', 'PINE'])} trading at right now?"
    if name == "translate":
        return (
            f"Say 'where is the train station' in {pick(rng, ['French', 'Japanese', 'Swahili', 'Polish', 'Turkish'])}."
        )
    if name == "set_reminder":
        return f"Remind me to {pick(rng, ['pay rent', 'call mum', 'water the plants', 'renew my passport'])} on {day} at 9:00."
    return (
        f"Which orders of customer C-{rng.randint(1000, 9999)} are still {pick(rng, ['open', 'shipped', 'returned'])}?"
    )


def q_tool_use(rng: random.Random) -> tuple[str, str | None]:
    names = rng.sample(list(TOOLS), rng.randint(2, 4))
    target = pick(rng, names)
    spec = json.dumps([{"name": n, "parameters": TOOLS[n]} for n in names], ensure_ascii=False)
    return (
        f"You can call these functions:\n{spec}\nUser request: {tool_request(rng, target)}\n"
        f"Reply with the function call(s) as JSON.",
        None,
    )


CAPABILITY_MIX = [
    (q_math, 26),
    (q_code, 20),
    (q_logic, 16),
    (q_science_history, 18),
    (q_multilingual, 10),
    (q_tool_use, 10),
]


def capability_question(rng: random.Random, mix: list = CAPABILITY_MIX) -> tuple[str, str | None]:
    gen = rng.choices([g for g, _ in mix], weights=[w for _, w in mix])[0]
    return gen(rng)


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
    if a == "no":
        return "yes"
    return pick(rng, ["it cannot be determined", "both of them", "none of the above", "all of them"])


def grader_item(rng: random.Random) -> tuple[str, str]:
    """A question with a known answer, and a candidate answer to grade (right about half the time)."""
    mix = [(q_math, 40), (q_logic, 25), (q_science_history, 20), (q_code, 8), (q_multilingual, 7)]
    while True:
        q, a = capability_question(rng, mix)
        if a is not None:
            break
    cand = a if rng.random() < 0.5 else wrong_answer(rng, a)
    return q, pick(rng, CANDIDATE_FORMS).format(a=cand)


# ---------------------------------------------------------------------------------------------------------------
# Legitimate templated traffic


def saas_text(rng: random.Random) -> str:
    ticket = pick(rng, TICKETS).format(
        n=rng.randint(10000, 99999), item=pick(rng, SHOP_ITEMS), d=rng.randint(3, 40), country=pick(rng, COUNTRIES)
    )
    return SAAS_SYSTEM.format(ticket=ticket, note=pick(rng, AGENT_NOTES), agent=pick(rng, AGENT_NAMES))


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
            q, _ = q_math(rng)
            items.append(f"Question: {q}\nAnswer:")
        else:
            q, _ = q_logic(rng)
            items.append(f"Question: {q}\nAnswer:")
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


class Generator:
    def __init__(self, seed: int, scale: float) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.used: set[str] = set()
        self.accounts: list[Account] = []
        self.prompts: list[tuple[float, str, str, str, str, str]] = []  # t, account, text, model, asn, agent
        self.viral_prompts = self.viral_accounts = 0

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

    def emit(self, t: float, acc: Account, text: str, model: str, asn: str, agent: str) -> None:
        self.prompts.append((t % WINDOW, acc.account_id, text, model, asn, agent))

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
                "style": rng.randrange(3),
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
                sessions = 1 + (k > 3) + (k > 8)
                starts = [human_hour(rng) for _ in range(sessions)]
                for j in range(k):
                    t0 = starts[j % sessions] * 3600 + (j // sessions) * rng.expovariate(1 / 200)
                    t = day * 86400 + t0 - tz * 3600
                    text = ordinary_text(rng, lang, prof["bilingual"])
                    if prof["system"] and rng.random() < 0.9:
                        text = self.with_system(prof["system"], text, prof["style"])
                    model = prof["model"] if rng.random() < 0.85 else pick(rng, MODELS)
                    self.emit(t, acc, text, model, pick(rng, asns), agent)
        return users

    @staticmethod
    def with_system(system: str, text: str, style: int) -> str:
        if style == 0:
            return f"{system}\n\n{text}"
        if style == 1:
            return f"System: {system}\nUser: {text}"
        return f"<system>{system}</system>\n{text}"

    def viral(self, users: list) -> None:
        rng = self.rng
        web = [u for u in users if not u[5]["api"]]  # pasted into the chat app
        chosen = rng.sample(web, min(len(web), self.n(N_VIRAL, 3)))
        for acc, tz, _lang, asns, agent, prof in chosen:
            mine = [viral_text(rng) for _ in range(rng.choice([1, 1, 2]))]  # their own edit(s), restarted many times
            for _ in range(rng.randint(3, 7)):
                day = rng.randrange(DAYS)
                t = day * 86400 + human_hour(rng) * 3600 - tz * 3600
                self.emit(t, acc, pick(rng, mine), prof["model"], pick(rng, asns), agent)
                self.viral_prompts += 1
                for _ in range(rng.randint(0, 2)):  # a few moves in the game
                    t += rng.uniform(40, 300)
                    self.emit(t, acc, game_move(rng), prof["model"], pick(rng, asns), agent)
        self.viral_accounts = len(chosen)

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
                    self.emit(t, acc, saas_text(rng), MODELS[1], asn, agent)

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
                    self.emit(t, acc, text, model, "AS16509", "orion-sdk-python/0.9.2 evalkit/1.4")

    # -- extraction campaigns -----------------------------------------------------------------------------------

    def burst_created(self, first_day: datetime, days: float) -> datetime:
        return first_day + timedelta(seconds=self.rng.uniform(0, days * 86400))

    def reasoning_harvest(self) -> None:
        rng = self.rng
        n_acc = self.n(N_HARVEST, 3)
        cards: list[str] = []
        while len(cards) < n_acc:
            card = self.new_id("fp_", 48)
            cards += [card] * rng.randint(2, 4)
        agents = ["python-httpx/0.27.2", "aiohttp/3.10.5"]
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
                    q, _ = capability_question(rng)
                    model = MODELS[2] if rng.random() < 0.7 else MODELS[0]
                    self.emit(t, acc, wrapper.format(q=q), model, asn, agent)

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
                    self.emit(t, acc, wrapper.format(q=q, a=a), MODELS[0], asn, "orion-sdk-python/0.9.2")

    def build(self) -> None:
        users = self.ordinary()
        self.viral(users)
        self.saas()
        self.eval_harness()
        self.reasoning_harvest()
        self.grader_sweep()

    def write(self, out: Path) -> tuple[Path, Path]:
        out.mkdir(parents=True, exist_ok=True)
        self.prompts.sort(key=lambda p: (p[0], p[1]))
        prompts_path, accounts_path = out / "demo-prompts.jsonl", out / "demo-accounts.jsonl"
        with open(prompts_path, "w", encoding="utf-8") as fh:
            for i, (t, acc, text, model, asn, agent) in enumerate(self.prompts):
                row = {
                    "prompt_id": f"p{i + 1:07d}",
                    "account_id": acc,
                    "timestamp": iso(START + timedelta(seconds=t)),
                    "text": text,
                    "model": model,
                    "ip_asn": asn,
                    "user_agent": agent,
                }
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        with open(accounts_path, "w", encoding="utf-8") as fh:
            for a in sorted(self.accounts, key=lambda a: a.account_id):
                fh.write(json.dumps(a.row(), ensure_ascii=False) + "\n")
        return prompts_path, accounts_path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write promptsim's synthetic demo log (prompts + accounts).")
    ap.add_argument("--out", default="data", help="output directory (default: data)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every population's accounts by this")
    a = ap.parse_args(argv)
    if a.scale <= 0:
        ap.error("--scale must be positive")
    g = Generator(a.seed, a.scale)
    g.build()
    p, q = g.write(Path(a.out))
    by_group = Counter(a.group for a in g.accounts)
    group_of = {a.account_id: a.group for a in g.accounts}
    prompts_by = Counter(group_of[p[1]] for p in g.prompts)
    texts = len({p[2] for p in g.prompts})
    parts = ", ".join(
        f"{k} {by_group[k]}/{prompts_by[k]}" for k in ["ordinary", "saas", "eval", "reasoning-harvest", "grader-sweep"]
    )
    print(
        f"wrote {len(g.prompts)} prompts ({texts} distinct texts) from {len(g.accounts)} accounts "
        f"[accounts/prompts: {parts}; viral {g.viral_accounts}/{g.viral_prompts} of the ordinary] to {p} and {q}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
