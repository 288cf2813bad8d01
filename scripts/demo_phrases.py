"""Phrase banks for ``make_demo_log.py``: the words the demo log's prompts are built from.

Plain constants only, no code: the generator picks from these lists and fills the ``{...}`` slots. Every phrase
was written for this project; nothing is taken from a dataset or corpus. Change a bank and the demo log changes
(the output is deterministic for a seed, so keep the order of items if the log must stay the same).
"""

# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: shared follow-ups
# Second sentences people add to a request, many ways each, so no fixed follow-up reads like a shared template.

ALT = {
    "fight": [
        "How do I bring it up without a fight?",
        "how should I talk to them about it",
        "Is it worth saying something?",
        "What do I even say?",
        "Am I overreacting?",
        "How do I handle this without it getting awkward?",
        "I don't want to ruin things between us.",
    ],
    "tips": [
        "Any tips?",
        "How do I calm down?",
        "What should I do the night before?",
        "help",
        "any advice?",
        "How do people get through this?",
        "I can't stop thinking about it.",
    ],
    "take": [
        "Should I take it?",
        "is it worth it?",
        "What would you do?",
        "I can't decide.",
        "The commute would be shorter though.",
        "Help me think it through.",
    ],
    "watch": [
        "What should I watch tonight?",
        "Recommend me a show.",
        "Need a movie for tonight.",
        "Any film recommendations?",
        "what's good to binge this weekend?",
        "Suggest something to watch.",
    ],
    "like": ["I like {} and {}.", "I'm into {} and {}", "mostly {} and {}", "I usually watch {} or {}."],
    "start": ["You start.", "You go first.", "Begin the scene.", "Go!", "Set the scene for me.", ""],
    "one_q": [
        "Ask me one question at a time.",
        "Give me feedback after each answer.",
        "Be tough on me.",
        "Don't go easy.",
        "Start whenever you're ready.",
        "",
    ],
    "lost": [
        "We're doing it in {} and I'm lost.",
        "I have a {} test on Friday.",
        "my {} teacher explains it badly",
        "It's for {} homework.",
        "I missed the {} lesson on it.",
        "",
    ],
    "outline": [
        "Can you give me an outline?",
        "Where do I even start?",
        "I need three main points.",
        "Help me plan the paragraphs.",
        "It's due tomorrow.",
    ],
    "wrong": [
        "what am I doing wrong?",
        "any idea why?",
        "I've tried everything.",
        "Please help.",
        "It worked yesterday.",
        "how do I fix it",
    ],
    "tone": [
        "Make this sound more {}:",
        "Rewrite this so it sounds {}:",
        "can you make this more {}:",
        "Fix the tone of this, I want it {}:",
    ],
    "years": [
        "I'm {} and haven't exercised in years.",
        "I'm {}, a bit overweight and out of shape.",
        "{} years old, total beginner here.",
        "I just turned {} and want to get fit.",
    ],
}


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: writing help
# Emails, cover letters, poems, tone fixes of a rough sentence, business names (``gen_writing``).

RECIPIENTS = [
    "my landlord",
    "my team",
    "a client",
    "my kid's teacher",
    "the building manager",
    "my manager",
    "a recruiter",
    "my neighbour",
    "our customers",
    "the school principal",
    "a supplier",
    "my old professor",
    "the gym",
    "my insurance company",
    "a coworker",
    "the wedding venue",
    "my study group",
    "our volunteers",
]
EMAIL_TOPICS = [
    "a heater that still hasn't been fixed",
    "moving our weekly meeting to Thursday",
    "an invoice that is two weeks late",
    "asking for a reference letter",
    "taking two days off next week",
    "a refund for a cancelled class",
    "their dog barking at night",
    "thanking them for a great quarter",
    "a delayed shipment",
    "rescheduling our meeting",
    "following up after an interview",
    "a price increase starting next month",
    "cancelling my membership",
    "a mistake on my bill",
    "splitting the cost of a new fence",
    "the parking situation",
    "a project deadline slipping",
    "the holiday party",
    "a new safety rule",
    "a missing package",
]
TONES = [
    "polite but firm",
    "friendly",
    "formal",
    "short and direct",
    "apologetic",
    "warm",
    "professional",
    "not too pushy",
    "casual",
    "confident",
]
JOBS = [
    "junior data analyst",
    "barista",
    "nurse",
    "warehouse supervisor",
    "graphic designer",
    "primary school teacher",
    "paralegal",
    "frontend developer",
    "dental assistant",
    "sales associate",
    "lab technician",
    "project coordinator",
    "customer support agent",
    "bookkeeper",
    "line cook",
    "social media manager",
    "physical therapy aide",
    "IT help desk technician",
]
WORKPLACES = [
    "a small nonprofit",
    "a hospital",
    "a startup",
    "a family bakery",
    "a logistics company",
    "a public library",
    "a law firm",
    "a design agency",
    "a city council office",
    "a hotel chain",
    "a bike shop",
    "a university lab",
]
FIELDS = [
    "retail",
    "hospitality",
    "customer service",
    "teaching",
    "accounting",
    "healthcare",
    "the army",
    "warehouse work",
    "freelance design",
    "tutoring",
    "research",
    "event planning",
]
POEM_SUBJECTS = [
    "my cat who hates Mondays",
    "the first snow of the year",
    "my grandmother's garden",
    "a rainy bus ride",
    "our tenth anniversary",
    "my morning coffee",
    "moving to a new city",
    "my best friend's graduation",
    "the sea at night",
    "a houseplant I keep forgetting to water",
    "my dad's retirement",
    "a long train journey",
    "autumn leaves",
    "my dog getting old",
    "the last day of summer",
    "a messy kitchen",
    "starting a new job",
    "my little sister",
]
POEM_FORMS = [
    "short poem",
    "haiku",
    "limerick",
    "rhyming poem",
    "four-line poem",
    "free verse poem",
    "sonnet",
    "silly poem",
]
OCCASIONS = [
    "a birthday card",
    "a retirement party",
    "a wedding speech",
    "Mother's Day",
    "a farewell card",
    "a Christmas card",
    "my own blog",
    "a school assignment",
]
BUSINESSES = [
    "a dog grooming van",
    "a coffee cart",
    "a bakery that only sells pies",
    "a used bookshop",
    "a cleaning company",
    "a kids' coding club",
    "a podcast about gardening",
    "a vintage clothes stall",
    "a yoga studio",
    "a food truck selling tacos",
    "a bike repair shop",
    "an Etsy candle shop",
]
ROUGH_SENTENCES = [
    "hey so the {doc} isnt done yet bc the data was wrong, will send {day}",
    "we cant do the refund, its been more than {n} days sorry",
    "i think your idea for the {doc} is kinda bad honestly but maybe we can fix it",
    "pls stop parking in front of my {place} its the {nth} time",
    "the meeting on {day} was a waste of time and nobody knew what to do",
    "i need the {doc} by {day} or we miss the deadline again",
    "thanks for the {gift} it was really nice of u",
    "im quitting at the end of {month}, it was ok working here",
    "your {gift} got lost in the post, we dont know where it is",
    "can u cover my shift {day} i have a thing",
]
ROUGH_SLOTS = {
    "doc": ["report", "slides", "budget", "menu", "newsletter", "schedule", "website copy", "grant form"],
    "day": ["tmrw", "monday", "friday", "next week", "saturday", "thursday", "end of day"],
    "place": ["garage", "shop", "driveway", "gate", "house"],
    "nth": ["third", "fourth", "fifth", "tenth", "second"],
    "gift": ["flowers", "gift card", "cake", "book", "package", "wine", "candle"],
    "month": ["the month", "june", "next month", "march", "the year"],
}


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: cooking
# What to cook, substitutes, meal plans, kitchen mishaps (``gen_cooking``).

INGREDIENTS = [
    "chicken thighs",
    "rice",
    "spinach",
    "chickpeas",
    "eggs",
    "leftover pasta",
    "tofu",
    "canned tuna",
    "sweet potatoes",
    "feta",
    "ground beef",
    "mushrooms",
    "frozen peas",
    "lentils",
    "a bag of carrots",
    "half a cabbage",
    "salmon",
    "tortillas",
    "black beans",
    "bell peppers",
    "zucchini",
    "coconut milk",
    "bacon",
    "cauliflower",
    "potatoes",
    "cheddar",
    "an onion",
    "broccoli",
    "oats",
    "bananas",
]
DISHES = [
    "banana bread",
    "lasagna",
    "chili",
    "pancakes",
    "a curry",
    "brownies",
    "meatballs",
    "fried rice",
    "mac and cheese",
    "a quiche",
    "cookies",
    "tomato soup",
    "a stir fry",
    "pizza dough",
    "carrot cake",
    "shepherd's pie",
    "risotto",
    "guacamole",
]
SWAP_INGREDIENTS = [
    "eggs",
    "butter",
    "buttermilk",
    "heavy cream",
    "sour cream",
    "brown sugar",
    "baking powder",
    "white wine",
    "breadcrumbs",
    "parmesan",
    "fresh garlic",
    "milk",
]
DIETS = ["vegetarian", "high-protein", "cheap", "low-carb", "dairy-free", "kid-friendly", "gluten-free", "vegan"]


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: travel
# Trip plans, packing, layovers (``gen_travel``); ``CITIES`` is also used by quick lookups and tool calls.

CITIES = [
    "Lisbon",
    "Kyoto",
    "Mexico City",
    "Edinburgh",
    "Vancouver",
    "Prague",
    "Cape Town",
    "Seoul",
    "Rome",
    "Buenos Aires",
    "Istanbul",
    "Hanoi",
    "Copenhagen",
    "New Orleans",
    "Marrakesh",
    "Chicago",
    "Bali",
    "Barcelona",
    "Vienna",
    "Reykjavik",
    "Sydney",
    "Montreal",
    "Dubrovnik",
    "Oaxaca",
    "Singapore",
    "Porto",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
COMPANIONS = [
    "a toddler",
    "my elderly parents",
    "two teenagers",
    "my dog",
    "a group of friends",
    "my partner",
    "nobody, I'm going solo",
]


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: fitness
# Training plans, stretches, calories, protein (``gen_fitness``).

ACTIVITIES = [
    "running",
    "swimming",
    "cycling",
    "rowing",
    "hiking",
    "jump rope",
    "yoga",
    "weightlifting",
    "dancing",
    "walking uphill",
    "boxing",
    "climbing",
]
BODY_PARTS = ["lower back", "knee", "shoulder", "hip", "neck", "ankle", "wrist", "hamstring"]
GOALS = ["5k running", "strength", "fat loss", "mobility", "beginner calisthenics", "half marathon", "home workout"]


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: personal advice
# Difficult people, nerves before events, job offers, gifts (``gen_advice``).

RELATIONS = [
    "roommate",
    "sister",
    "boss",
    "partner",
    "best friend",
    "coworker",
    "mother-in-law",
    "neighbour",
    "teenage son",
    "business partner",
]
BEHAVIOURS = [
    "eating my food without asking",
    "cancelling plans at the last minute",
    "interrupting me in meetings",
    "borrowing money and not paying it back",
    "leaving dishes in the sink for days",
    "commenting on my weight",
    "texting me late at night about work",
    "taking credit for my ideas",
    "playing music loudly after midnight",
    "forgetting my birthday",
]
EVENTS = [
    "a job interview on Monday",
    "my driving test",
    "giving a speech at my friend's wedding",
    "my first day at a new school",
    "a dentist appointment",
    "meeting my partner's parents",
    "presenting to the whole company",
    "a first date this weekend",
    "asking for a raise",
    "moving abroad",
]
HOBBIES = [
    "gardening",
    "board games",
    "baking",
    "fishing",
    "photography",
    "jazz",
    "knitting",
    "video games",
    "camping",
    "running",
    "painting",
    "old films",
]


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: quick lookups
# Capitals, heights, inventors, unit conversions (``gen_lookup``); ``COUNTRIES`` also fills SaaS tickets.

COUNTRIES = [
    "Japan",
    "Portugal",
    "Canada",
    "Kenya",
    "Peru",
    "Norway",
    "Vietnam",
    "Morocco",
    "Chile",
    "Iceland",
    "New Zealand",
    "Thailand",
    "Greece",
    "Colombia",
    "Poland",
    "Egypt",
]
LANDMARKS = [
    "the Eiffel Tower",
    "Mount Kilimanjaro",
    "the Burj Khalifa",
    "Big Ben",
    "the Statue of Liberty",
    "the Golden Gate Bridge",
    "Mount Fuji",
    "the CN Tower",
    "the Leaning Tower of Pisa",
    "Table Mountain",
]
INVENTIONS = [
    "the telephone",
    "the bicycle",
    "the microwave oven",
    "the printing press",
    "the light bulb",
    "the zipper",
    "the World Wide Web",
    "the dishwasher",
    "the stethoscope",
    "instant noodles",
]
UNIT_PAIRS = [
    ("cups", "litre"),
    ("ounces", "pound"),
    ("feet", "mile"),
    ("teaspoons", "tablespoon"),
    ("grams", "ounce"),
    ("millilitres", "cup"),
    ("minutes", "week"),
    ("inches", "metre"),
]


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: coding help in users' own words
# Errors, how-tos and concepts asked by beginners (``gen_code_help``).

CODE_LANGS = ["Python", "JavaScript", "Java", "C#", "Go", "PHP", "SQL", "bash", "TypeScript", "R", "Excel"]
CODE_TASKS = [
    "read a CSV file",
    "sort a list of dicts by date",
    "send a POST request with a token",
    "remove duplicates from a list",
    "parse a JSON file",
    "rename every file in a folder",
    "connect to a Postgres database",
    "center a div",
    "get yesterday's date",
    "count words in a string",
    "make a loop wait one second between runs",
    "merge two spreadsheets on an id column",
    "check if a file exists",
    "split a string on commas",
    "round to two decimals",
    "read an env variable",
]
CODE_ERRORS = [
    "a KeyError",
    "'undefined is not a function'",
    "a NullPointerException",
    "an index out of range error",
    "'permission denied'",
    "a syntax error on the last line",
    "'module not found'",
    "a timeout",
    "'cannot read properties of undefined'",
    "a unicode decode error",
]
CODE_ACTIONS = [
    "run it on my laptop",
    "open the second file",
    "deploy it",
    "call the API twice",
    "loop over the results",
    "add a new column",
    "import my own module",
    "read the config",
]
CONCEPTS = [
    "recursion",
    "a closure",
    "async/await",
    "a REST API",
    "Docker",
    "git rebase",
    "a hash map",
    "object-oriented programming",
    "a race condition",
    "big O notation",
    "a foreign key",
    "a virtual env",
]


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: homework
# Topics to explain, book reports, essays (``gen_homework``).

TOPICS = [
    "photosynthesis",
    "supply and demand",
    "the water cycle",
    "plate tectonics",
    "the causes of World War I",
    "how vaccines work",
    "compound interest",
    "the French Revolution",
    "cell division",
    "Newton's laws",
    "the electoral college",
    "ecosystems and food webs",
    "the Pythagorean theorem",
    "the Cold War",
    "chemical bonds",
    "fractions",
    "the Industrial Revolution",
    "climate vs weather",
]
CLASSES = ["biology", "econ", "history", "chemistry", "physics", "civics", "geography", "math", "social studies"]
BOOKS = [
    "Pride and Prejudice",
    "Of Mice and Men",
    "Hamlet",
    "The Great Gatsby",
    "Frankenstein",
    "Animal Farm",
    "To Kill a Mockingbird",
    "Macbeth",
    "Lord of the Flies",
    "Jane Eyre",
]
ESSAY_TOPICS = [
    "social media and teenagers",
    "whether school uniforms help",
    "renewable energy",
    "the four-day work week",
    "space exploration",
    "banning phones in class",
    "fast fashion",
    "the role of museums",
    "remote work",
]


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: small talk and role-play
# Greetings and chit-chat (``gen_small_talk``); personas and practice scenes (``gen_roleplay``).

SMALL_TALK = [
    "hi",
    "hello!",
    "good morning",
    "how's it going?",
    "I'm bored, talk to me",
    "thanks, that helped a lot",
    "lol ok",
    "can you say that shorter?",
    "that's not what I meant",
    "what can you do?",
    "are you awake?",
    "you're funny",
    "ok one more thing",
    "never mind",
    "what day is it today?",
]
GENRES = ["sci-fi", "cozy mysteries", "horror", "documentaries", "romcoms", "anime", "true crime", "westerns"]
PERSONAS = [
    "a grumpy pirate captain",
    "a 1920s detective",
    "my strict Spanish teacher",
    "a medieval innkeeper",
    "a tour guide in ancient Rome",
    "a wise old wizard",
    "a sports commentator",
    "a customer service robot",
    "Sherlock Holmes",
    "a cowboy",
    "my future self in 20 years",
    "a cat who can talk",
]
RP_TASKS = [
    "tell me about your day",
    "give me advice about my job search",
    "explain how taxes work",
    "describe the weather outside",
    "talk me into going to the gym",
    "review my breakfast",
    "help me plan a birthday party",
    "tell me a bedtime story",
]
PRACTICE = [
    ("interviewer", "job interview for a nursing role"),
    ("landlord", "rent negotiation"),
    ("customer", "difficult sales call"),
    ("examiner", "spoken English exam"),
    ("doctor", "appointment where I describe my symptoms"),
    ("barista", "conversation in Italian"),
]


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: Spanish
# Slots for the Spanish speakers' own requests (``gen_spanish``).

ES_DEST = ["mi casero", "mi jefa", "el colegio de mi hijo", "un cliente", "mi vecino", "el banco"]
ES_TEMA = [
    "una factura equivocada",
    "cambiar la fecha de la reunión",
    "un retraso en el envío",
    "pedir vacaciones",
    "el ruido por la noche",
    "una devolución",
]
ES_COSAS = ["huevos", "arroz", "pollo", "lentejas", "patatas", "espinacas", "atún", "queso", "tomates"]
ES_CIUDADES = ["Madrid", "Sevilla", "Oaxaca", "Bogotá", "Lima", "Valencia", "Cusco", "Granada"]
ES_CONCEPTOS = [
    "la inflación",
    "un algoritmo",
    "la fotosíntesis",
    "una hipoteca",
    "la inteligencia artificial",
    "el interés compuesto",
    "la prima de riesgo",
    "el efecto invernadero",
    "una criptomoneda",
    "el IVA",
    "la teoría de la evolución",
]
ES_FRASES = [
    "tengo hambre",
    "me da igual",
    "qué pena",
    "estoy hasta las narices",
    "no pasa nada",
    "ojalá",
    "me cae bien",
    "vale la pena",
    "estar en las nubes",
    "ponerse las pilas",
    "tomar el pelo",
    "qué más da",
]
ES_PROBLEMAS = [
    "no duermo bien",
    "estoy muy estresado con el trabajo",
    "no tengo ganas de nada",
    "me cuesta concentrarme",
    "discuto mucho con mi pareja",
    "gasto demasiado dinero",
]


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: German
# Slots for the German speakers' own requests (``gen_german``).

DE_EMP = ["meinen Vermieter", "die Schule", "meinen Chef", "die Hausverwaltung", "einen Kunden", "die Versicherung"]
DE_THEMA = [
    "der kaputten Heizung",
    "einer falschen Rechnung",
    "meines Urlaubsantrags",
    "einer Lieferverzögerung",
    "der Kündigung meines Vertrags",
    "eines Termins",
]
DE_STADT = ["Wien", "Hamburg", "Lissabon", "Prag", "München", "Kopenhagen", "Rom"]
DE_KONZEPT = [
    "Inflation",
    "einen Bausparvertrag",
    "maschinelles Lernen",
    "die Relativitätstheorie",
    "eine GmbH",
    "die Steuererklärung",
    "die Rentenversicherung",
    "Photosynthese",
    "eine Blockchain",
    "den Leitzins",
    "Quantencomputer",
    "die Mehrwertsteuer",
]
DE_ABSAGE = [
    "ein Vorstellungsgespräch",
    "eine Hochzeit",
    "ein Abendessen",
    "ein Projekt",
    "eine Geburtstagsfeier",
    "ein Jobangebot",
    "ein Ehrenamt",
    "eine Dienstreise",
    "einen Vereinsvorsitz",
]
DE_REISE = ["in Norwegen", "am Meer", "in den Alpen", "in Marokko", "auf einer Radtour", "beim Camping"]
DE_VERHALTEN = [
    "kommt ständig zu spät",
    "hört nachts laut Musik",
    "räumt nie die Küche auf",
    "leiht sich dauernd Geld",
    "redet in Meetings immer dazwischen",
    "parkt vor meiner Einfahrt",
]


# ---------------------------------------------------------------------------------------------------------------
# Ordinary requests: Chinese
# Slots for the Chinese speakers' own requests (``gen_chinese``).

ZH_OBJ = ["房东", "老板", "客户", "孩子的老师", "同事", "物业"]
ZH_TOPIC = ["下周请假两天", "账单有错误", "快递一直没到", "会议改到周四", "暖气坏了", "申请退款"]
ZH_CITY = ["成都", "西安", "杭州", "东京", "大阪", "首尔", "厦门", "大理"]
ZH_CONCEPT = ["通货膨胀", "区块链", "光合作用", "复利", "机器学习", "相对论", "量子计算", "基金定投", "温室效应"]
ZH_SENTENCES = [
    "明天的会议改到下午三点。",
    "谢谢你上次的帮忙。",
    "这个价格可以再便宜一点吗？",
    "我下周要去上海出差。",
    "请问最近的地铁站在哪里？",
    "我对这个工作很感兴趣。",
]


# ---------------------------------------------------------------------------------------------------------------
# Ordinary API users
# The stock system prompts API users put in front of their requests.

STOCK_SYSTEM = [
    "You are a helpful assistant.",
    "You are a helpful assistant. Answer concisely.",
    "You are a helpful, friendly assistant.",
    "You are a helpful assistant that answers clearly.",
]


# ---------------------------------------------------------------------------------------------------------------
# Capability questions: math, code and logic
# Payloads of the extraction campaigns and items of the eval harness (``q_math``, ``q_code``, ``q_logic``);
# ``NAMES`` and ``WEEKDAYS`` are also where ``wrong_answer`` finds another name or day.

NAMES = [
    "Priya",
    "Tomás",
    "Mei",
    "Jonas",
    "Amara",
    "Luca",
    "Noor",
    "Daniel",
    "Keiko",
    "Oskar",
    "Fatima",
    "Ravi",
    "Elena",
    "Kwame",
    "Sofia",
    "Hiro",
    "Grace",
    "Mateo",
    "Ingrid",
    "Yusuf",
    "Chloe",
    "Arjun",
    "Lena",
    "Omar",
]
ITEMS = [
    ("notebooks", "pens"),
    ("apples", "pears"),
    ("tickets", "programmes"),
    ("muffins", "cookies"),
    ("shirts", "socks"),
    ("plants", "pots"),
    ("bus passes", "maps"),
    ("candles", "matchboxes"),
]
CODE_TASK_BANK = [
    "returns the k most frequent words in a text, ties broken alphabetically",
    "checks whether a string of brackets ()[]{} is balanced",
    "merges overlapping intervals in a list of [start, end] pairs",
    "returns the length of the longest substring without repeated characters",
    "rotates an n x n matrix by 90 degrees in place",
    "finds the first missing positive integer in an unsorted array",
    "converts a Roman numeral to an integer",
    "returns all permutations of a list without duplicates",
    "implements an LRU cache with get and put in O(1)",
    "parses a time string like '3h25m10s' into seconds",
    "groups a list of words into anagram sets",
    "computes the edit distance between two strings",
    "flattens an arbitrarily nested list",
    "returns the shortest path length between two cells of a grid with walls",
    "detects a cycle in a directed graph given as an adjacency list",
    "counts the islands of 1s in a 2D grid",
    "serialises a binary tree to a string and back",
    "returns the median of two sorted arrays",
    "validates an IPv4 address string",
    "splits a list into chunks of size n, keeping the remainder",
    "computes the running median of a stream of numbers",
    "finds all pairs in an array that sum to a target, without duplicates",
    "evaluates an arithmetic expression with + - * / and parentheses",
    "compresses a string with run-length encoding and decompresses it",
]
PROG_LANGS = ["Python", "JavaScript", "Java", "C++", "Go", "Rust", "TypeScript", "C#", "Kotlin"]
CODE_EXTRAS = [
    "",
    "",
    " Explain its time complexity.",
    " Include a few unit tests.",
    " Do not use any library.",
    " Handle empty input.",
    " Keep it under 30 lines.",
]
FUNC_NAMES = ["total", "average", "count_positive", "last_item", "max_gap", "sum_even", "product"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
CATEGORIES = [
    ("bloops", "razzies", "lazzies"),
    ("painters", "musicians", "early risers"),
    ("squares", "rectangles", "rhombuses"),
    ("robots", "machines", "toys"),
    ("glorps", "flinks", "zarbs"),
    ("doctors", "graduates", "runners"),
]


# ---------------------------------------------------------------------------------------------------------------
# Capability questions: science and history
# Explain-why, how-it-works, history essays and multiple-choice facts (``q_science_history``, ``eval_suite``).

PHENOMENA = [
    "ice floats on liquid water",
    "the sky looks red and orange at sunset",
    "metal feels colder than wood at the same temperature",
    "a spoon in a glass of water looks bent",
    "salt melts ice on roads",
    "we see lightning before we hear thunder",
    "bread goes stale",
    "the Moon always shows us the same face",
    "onions make people cry",
    "a balloon shrinks in the cold",
    "rivers meander more on flat land",
    "antibiotics do not work against viruses",
    "high mountains have thinner air",
    "the ocean is salty but most rivers are not",
    "leaves change colour in autumn",
    "a pressure cooker cooks food faster",
]
PROCESSES = [
    "photosynthesis turns light into chemical energy",
    "a refrigerator moves heat out of its box",
    "the kidneys filter blood",
    "a nuclear reactor produces electricity",
    "vaccines train the immune system",
    "tides are caused by the Moon and the Sun",
    "a transistor works as a switch",
    "plate tectonics builds mountains",
    "mRNA is translated into a protein",
    "a lithium-ion battery charges",
]
HIST_EVENTS = [
    "the French Revolution",
    "the fall of the Western Roman Empire",
    "the Meiji Restoration",
    "the Dust Bowl",
    "the printing revolution in Europe",
    "the Partition of India",
    "the collapse of the Soviet Union",
    "the Haitian Revolution",
    "the Black Death",
    "the Suez Crisis",
    "the unification of Germany",
    "the Cuban Missile Crisis",
    "the Opium Wars",
    "the Reformation",
    "the Great Depression",
    "the abolition of the transatlantic slave trade",
]
# (question, correct answer, three wrong answers), written for this demo
FACTS = [
    ("Which planet has the shortest year in the solar system?", "Mercury", ["Venus", "Mars", "Neptune"]),
    ("What gas do plants take in from the air to make sugar?", "carbon dioxide", ["oxygen", "nitrogen", "argon"]),
    ("Which part of the cell holds most of its DNA?", "the nucleus", ["the ribosome", "the cell wall", "the vacuole"]),
    ("What is the chemical symbol of sodium?", "Na", ["So", "Sd", "N"]),
    ("Which blood cells carry oxygen?", "red blood cells", ["platelets", "white blood cells", "plasma cells"]),
    (
        "In which century did the Ottoman Empire capture Constantinople?",
        "the 15th",
        ["the 12th", "the 17th", "the 19th"],
    ),
    (
        "Which ocean lies between Africa and Australia?",
        "the Indian Ocean",
        ["the Atlantic", "the Pacific", "the Arctic"],
    ),
    ("What is the SI unit of electric resistance?", "the ohm", ["the volt", "the tesla", "the farad"]),
    ("Which empire built Machu Picchu?", "the Inca", ["the Aztec", "the Maya", "the Olmec"]),
    ("What is the hardest natural mineral?", "diamond", ["quartz", "topaz", "corundum"]),
    ("Which organ produces insulin?", "the pancreas", ["the liver", "the spleen", "the stomach"]),
    ("What does a seismograph measure?", "ground motion from earthquakes", ["air pressure", "wind speed", "humidity"]),
    (
        "Which treaty ended the First World War with Germany?",
        "the Treaty of Versailles",
        ["the Treaty of Utrecht", "the Treaty of Paris", "the Treaty of Ghent"],
    ),
    ("Which desert covers much of southern Mongolia?", "the Gobi", ["the Thar", "the Karakum", "the Namib"]),
    ("How many chromosomes does a typical human body cell have?", "46", ["23", "44", "48"]),
    (
        "Which scientist proposed the three laws of planetary motion?",
        "Johannes Kepler",
        ["Galileo Galilei", "Tycho Brahe", "Nicolaus Copernicus"],
    ),
    ("What is the main gas in Earth's atmosphere?", "nitrogen", ["oxygen", "carbon dioxide", "hydrogen"]),
    ("Which river flows through Baghdad?", "the Tigris", ["the Euphrates", "the Jordan", "the Nile"]),
    (
        "What type of economy relies mostly on supply and demand with little state control?",
        "a market economy",
        ["a command economy", "a traditional economy", "a barter economy"],
    ),
    (
        "Which layer of the Sun do we usually see from Earth?",
        "the photosphere",
        ["the core", "the corona", "the radiative zone"],
    ),
    (
        "What kind of bond holds the two strands of DNA together?",
        "hydrogen bonds",
        ["ionic bonds", "metallic bonds", "peptide bonds"],
    ),
    ("In which year did the Berlin Wall fall?", "1989", ["1985", "1991", "1979"]),
    ("What is the boiling point of water at sea level in Fahrenheit?", "212", ["180", "200", "100"]),
    ("Which civilisation wrote in cuneiform?", "the Sumerians", ["the Egyptians", "the Romans", "the Phoenicians"]),
    (
        "What is the term for an animal that eats only plants?",
        "a herbivore",
        ["a carnivore", "an omnivore", "a detritivore"],
    ),
    ("Which metal is liquid at room temperature?", "mercury", ["gallium", "tin", "lead"]),
    ("Who painted the ceiling of the Sistine Chapel?", "Michelangelo", ["Raphael", "Leonardo da Vinci", "Botticelli"]),
    ("What is the name of the boundary where two air masses meet?", "a front", ["a ridge", "a trough", "an isobar"]),
    ("Which vitamin does skin make in sunlight?", "vitamin D", ["vitamin C", "vitamin A", "vitamin K"]),
    ("What is the longest bone in the human body?", "the femur", ["the tibia", "the humerus", "the spine"]),
]
FACT_SUBJECTS = ["biology", "world history", "physics", "chemistry", "geography", "economics", "astronomy", "art"]


# ---------------------------------------------------------------------------------------------------------------
# Capability questions: tool use
# Function specs offered to the model and the slots of the user requests that call them (``q_tool_use``).

TOOLS = {
    "get_weather": {"city": "string", "date": "string (YYYY-MM-DD)"},
    "send_email": {"to": "string", "subject": "string", "body": "string"},
    "search_flights": {"origin": "IATA code", "destination": "IATA code", "date": "string"},
    "convert_currency": {"amount": "number", "from": "ISO code", "to": "ISO code"},
    "create_event": {"title": "string", "start": "ISO datetime", "minutes": "integer"},
    "lookup_stock": {"symbol": "string"},
    "translate": {"text": "string", "target_lang": "string"},
    "set_reminder": {"text": "string", "at": "ISO datetime"},
    "query_orders": {"customer_id": "string", "status": "open|shipped|returned"},
}
AIRPORTS = ["LIS", "NRT", "JFK", "CDG", "GRU", "SYD", "ORD", "BER", "NBO", "YVR"]
CURRENCIES = ["EUR", "USD", "JPY", "GBP", "BRL", "INR", "CHF"]


# ---------------------------------------------------------------------------------------------------------------
# The campaigns' wrappers (the project's own wording)
# reasoning-harvest wraps a question as ``{q}``; grader-sweep wraps a question ``{q}`` and a candidate answer ``{a}``,
# the candidate typed in one of ``CANDIDATE_FORMS``.

HARVEST_WRAPPERS = [
    "Work through the problem below as carefully as you can. Write out every step of your reasoning before you "
    "commit to an answer, including any checks you make along the way.\n\nProblem:\n{q}\n\nFinish with a line "
    "of the form 'Final answer: ...'.",
    "I am putting together a study guide and I need complete worked solutions, not just results.\n\n{q}\n\n"
    "Think it through step by step, explain why each step follows from the previous one, and only then state "
    "the answer.",
    "[TASK]\n{q}\n[INSTRUCTIONS]\nReason in detail before answering. Show your full chain of thought, note any "
    "assumptions you make, then give the answer on its own line prefixed with ANSWER:",
]
GRADER_WRAPPERS = [
    "You are a strict grader. Compare the candidate answer with the question using the rubric below and give a "
    "score out of 10.\nRubric: correctness (6 points), completeness of the method (2 points), clarity (2 points)."
    "\n\nQuestion: {q}\nCandidate answer: {a}\n\nGive a short justification, then end with 'Score: N/10'.",
    "Evaluate the response below.\n### Question\n{q}\n### Response to grade\n{a}\n### Rubric\n- Is the final "
    "result correct?\n- Is the method sound and explained?\n- Is it concise?\nReturn JSON with the fields "
    '"score" (integer 0-10) and "rationale".',
]
CANDIDATE_FORMS = [
    "{a}",
    "The answer is {a}.",
    "I think it's {a}.",
    "{a}, after working it out.",
    "Answer: {a}",
    "It should be {a} if I did this right.",
    "So the result is {a}.",
]


# ---------------------------------------------------------------------------------------------------------------
# Legitimate templated traffic: the SaaS help-desk app
# One fixed system prompt around a customer ticket, the agent's note and the agent's name (``saas_text``).

SAAS_SYSTEM = (
    "You are the reply assistant built into Harbor Desk, a help-desk app for small online shops. Write in a warm, "
    "plain and professional voice. Keep replies under 120 words unless the agent asks for more. Never make up "
    "prices, dates or order details that are not in the ticket. Sign off with the agent's first name.\n\n"
    "Ticket from the customer:\n{ticket}\n\nAgent's note: {note}\nAgent: {agent}"
)
SHOP_ITEMS = [
    "ceramic mug",
    "linen shirt",
    "phone case",
    "scented candle",
    "wool scarf",
    "yoga mat",
    "tea sampler",
    "leather wallet",
    "desk lamp",
    "set of coasters",
    "baby blanket",
    "dog harness",
    "poster print",
    "pair of earrings",
    "backpack",
    "cutting board",
]
TICKETS = [
    "Hi, my order #{n} arrived today but the {item} is cracked. Can I get a replacement?",
    "Hello, I ordered a {item} {d} days ago and the tracking hasn't moved since Monday. Is it lost?",
    "I was charged twice for order #{n}. Please fix this.",
    "Do you ship the {item} to {country}? And how long does it take?",
    "The {item} I got is a different colour from the photo on your site. Can I swap it?",
    "Can I change the delivery address on order #{n}? I just moved.",
    "hi i want to return the {item}, it's too small. how do i do that",
    "Is the {item} back in stock any time soon? It's for a gift.",
    "My discount code didn't work at checkout for the {item}. Can you still apply it?",
    "The {item} arrived without the gift note I paid for. Not happy.",
    "Do you do bulk orders? I'd need about {d} of the {item} for our office.",
    "Order #{n} says delivered but nothing is at my door.",
]
AGENT_NOTES = [
    "apologise and send a replacement",
    "offer a full refund",
    "explain shipping takes 5-7 days",
    "ask for a photo of the damage",
    "say yes, we ship there",
    "politely decline, item is final sale",
    "give them the return steps",
    "offer 15% off next order",
    "say we'll check with the courier",
    "confirm the address change",
    "tell them restock is expected next month",
    "refund the double charge",
]
AGENT_NAMES = ["Sam", "Alex", "Jo", "Maria", "Chris", "Dana", "Lee", "Nina", "Tom", "Rita", "Ben", "Ola"]


# ---------------------------------------------------------------------------------------------------------------
# Legitimate templated traffic: the viral role-play prompt
# Lines some users add to the copied prompt (``viral_text``) and the game moves they send after it (``game_move``).

VIRAL_EXTRAS = [
    "Make it scary.",
    "Keep replies short please.",
    "Use lots of sound effects.",
    "The tone should be sad and lonely.",
    "Add a secret that the crew has been hiding.",
]
GAME_MOVES = [
    "2",
    "1",
    "3",
    "option 2",
    "I pick 3",
    "scan the cargo bay",
    "open the airlock",
    "wake the captain",
    "ask what year it is",
    "reroute power to life support",
    "check the hull breach",
    "who else is awake?",
    "go to the bridge",
    "play the last log entry",
    "lock the door behind me",
    "run a full diagnostic",
    "ignore the signal and keep going",
    "answer the transmission",
    "send a probe to the planet",
]
