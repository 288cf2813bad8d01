"""Phrase banks for ``make_demo_log.py``: the words the demo log's requests are built from.

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
# Capability questions: math word problems
# Payloads of the extraction campaigns and items of the eval harness and the grader sweep (``q_math``). A shape is a
# list of parts, each part a list of ways to say it: ``q_math`` computes the slots (numbers, names, things), picks
# one way per part and joins them, so two problems of one shape rarely share more than a few words. ``NAMES`` and
# ``WEEKDAYS`` are also where ``wrong_answer`` finds another name or day.

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
    ("paintbrushes", "sketchpads"),
    ("lemons", "limes"),
    ("postcards", "stamps"),
    ("bread rolls", "croissants"),
    ("light bulbs", "fuses"),
    ("seed packets", "trowels"),
]
SHOPS = [
    "corner shop",
    "farmers' market",
    "school fair",
    "hardware store",
    "bakery",
    "stationery shop",
    "garden centre",
    "museum gift shop",
    "night market",
]
# (traveller, verb, lowest and highest speed in km/h)
TRAVELLERS = [
    ("cyclist", "rides", 12, 30),
    ("hiker", "walks", 3, 6),
    ("delivery van", "drives", 40, 80),
    ("ferry", "sails", 15, 35),
    ("rowing crew", "rows", 6, 12),
    ("tractor", "drives", 15, 30),
    ("freight train", "runs", 50, 110),
    ("horse and cart", "travels", 8, 14),
]
VESSELS = ["water tank", "garden pond", "rain barrel", "fish tank", "cattle trough", "paddling pool"]
GOODS = [
    "jacket",
    "bicycle",
    "desk lamp",
    "pair of boots",
    "two-person tent",
    "coffee grinder",
    "cordless kettle",
    "rucksack",
    "winter coat",
    "desk chair",
]
# (rectangular thing, unit)
PLOTS = [
    ("rectangular garden", "m"),
    ("rug", "cm"),
    ("playground", "m"),
    ("car park", "m"),
    ("poster", "cm"),
    ("vegetable bed", "m"),
    ("tablecloth", "cm"),
    ("sports hall floor", "m"),
]
CONTAINERS = ["bag", "jar", "drawer", "tin", "box", "basket"]
TOKENS = ["marbles", "beads", "socks", "tokens", "sweets", "buttons", "counters", "ribbons"]
COLOURS = ["red", "blue", "green", "yellow", "white", "black", "orange", "purple"]
# (ingredient, unit, lowest and highest amount for the base recipe)
RECIPE_INGREDIENTS = [
    ("flour", "grams", 200, 500),
    ("milk", "ml", 150, 600),
    ("rice", "grams", 150, 400),
    ("butter", "grams", 40, 200),
    ("vegetable stock", "ml", 300, 1200),
    ("sugar", "grams", 50, 250),
    ("oats", "grams", 80, 300),
    ("red lentils", "grams", 100, 350),
]
DISHES_TO_SCALE = ["pancake batter", "soup", "curry", "porridge", "flatbread", "apple pie", "risotto", "lentil stew"]
BOOK_KINDS = ["novel", "biography", "textbook", "graphic novel", "cookbook", "travel guide"]
JOBS_TOGETHER = [
    "paint the garden fence",
    "weed the allotment",
    "sort the library returns",
    "wash the school minibuses",
    "tile the bathroom floor",
    "fold the campaign leaflets",
    "clean the sports hall",
    "stack the firewood",
]
TESTS = ["quizzes", "maths tests", "spelling tests", "darts rounds", "bowling games", "puzzle rushes"]
PRIZES = ["prize", "bonus", "tip jar", "raffle win", "inheritance", "consulting fee"]
TOWNS = ["Ashby", "Port Elver", "Millbrook", "Kestrel Bay", "Dunmore", "Oakhollow", "Red Ferry", "Linton", "Carrow"]
PEOPLE_POOLS = ["volunteers", "students", "players", "nurses", "engineers", "chess club members", "teachers"]
GROUPS = ["committee", "panel", "relay team", "crew", "delegation", "jury"]
# (plural, singular) of things sold in packs
PACKED = [
    ("batteries", "battery"),
    ("pencils", "pencil"),
    ("eggs", "egg"),
    ("tea bags", "tea bag"),
    ("light bulbs", "bulb"),
    ("stickers", "sticker"),
    ("tennis balls", "ball"),
]
ROUND_THINGS = ["pond", "table top", "clock face", "pizza", "flower bed", "trampoline", "fountain basin"]
# a right triangle in words: (setting, question, the side asked for: b = the unknown leg, c = the hypotenuse)
RIGHT_TRIANGLES = [
    ("A {c} m ladder leans against a wall with its foot {a} m from the wall.", "How high up the wall does it reach?",
     "b"),
    ("A rectangular field measures {a} m by {b} m.", "How long is the straight path from one corner to the opposite "
     "corner?", "c"),
    ("{n1} walks {a} km due north and then {b} km due east.", "How far is {n1} from the start in a straight line?",
     "c"),
    ("A kite flies on a {c} m string, straight above a spot {a} m from where {n1} stands.", "How high is the kite?",
     "b"),
    ("A wheelchair ramp rises {b} cm over a horizontal run of {a} cm.", "How long is the ramp's surface?", "c"),
    ("A TV screen is {a} inches wide and {b} inches tall.", "What is its diagonal?", "c"),
]  # fmt: skip
TIMED_EVENTS = ["film", "football match", "written exam", "concert", "webinar", "train journey", "board meeting"]
TRIPS = ["school trip", "wedding", "chess tournament", "museum visit", "company retreat", "choir festival"]
# (one, several) of what a group of {n} is driven in (a coach when it seats 49)
VEHICLES = [("minibus", "minibuses"), ("van", "vans"), ("boat", "boats"), ("taxi", "taxis"), ("people carrier",
            "people carriers")]  # fmt: skip
UNIT_WORDS = {"m": "metres", "cm": "centimetres"}
WANTS = ["bike", "guitar", "tablet", "pair of skates", "telescope", "sewing machine", "drum kit"]

MATH_SHAPES = {
    "change": [
        [
            "{n1} buys {a} {x} at ${p} each and {b} {y} at ${q} each",
            "At the {shop}, {n1} picks up {a} {x} for ${p} apiece and {b} {y} for ${q} apiece",
            "{n1} gets {a} {x} (${p} each) and {b} {y} (${q} each) from the {shop}",
        ],
        ["and pays with a ${bill} note.", "and hands over ${bill}.", "and pays ${bill} in cash."],
        ["How much change does {n1} get?", "What change should {n1} receive?", "How much money comes back?"],
    ],
    "trip": [
        [
            "A {who} {moves} at {v} km/h for {t} hours",
            "For {t} hours a {who} {moves} at a steady {v} km/h",
            "A {who} keeps up {v} km/h for {t} hours",
        ],
        [
            ", takes a break, then covers another {d} km.",
            ", stops for lunch and then goes {d} km more.",
            "and, after a rest, finishes with a further {d} km.",
        ],
        ["How far did the {who} travel in total?", "What is the total distance?", "How many kilometres is that?"],
    ],
    "tank": [
        [
            "A {vessel} holds {cap} litres and is {pct}% full.",
            "The {vessel} has room for {cap} litres; right now it is {pct}% full.",
            "A {cap}-litre {vessel} is only {pct}% full.",
        ],
        [
            "A pump adds {r} litres per minute.",
            "Water flows in at {r} litres a minute.",
            "{n1} tops it up with a hose that delivers {r} litres per minute.",
        ],
        [
            "How many minutes until it is full?",
            "How long will it take to fill the rest?",
            "After how many minutes is it full to the brim?",
        ],
    ],
    "sale": [
        ["A {good} costs ${p}.", "The list price of a {good} is ${p}.", "{n1} has picked out a ${p} {good}."],
        [
            "It is marked down by {d}%, and then {tax}% sales tax is added.",
            "The shop takes {d}% off, then adds {tax}% tax on the reduced price.",
            "In the sale it is {d}% cheaper, but {tax}% tax is charged at the till.",
        ],
        ["What is the final price?", "What does it cost in the end?", "How much is paid at checkout?"],
    ],
    "rect": [
        [
            "A {plot} has a perimeter of {per} {unit}",
            "The edge all the way round a {plot} is {per} {unit} long",
            "Going once around a {plot} measures {per} {unit}",
        ],
        [
            "and its length is {extra} {unit} more than its width.",
            ", and it is {extra} {unit} longer than it is wide.",
            "; its long side exceeds its short side by {extra} {unit}.",
        ],
        ["What is its area?", "Find the area.", "How many square {units} does it cover?"],
    ],
    "ages": [
        [
            "{n1} is {gap} years older than {n2}.",
            "{n2} is {gap} years younger than {n1}.",
            "There are {gap} years between {n1} and {n2}, and {n1} is the elder.",
        ],
        [
            "In {n} years the sum of their ages will be {s}.",
            "{n} years from now their ages will add up to {s}.",
            "Together they will be {s} years old in {n} years.",
        ],
        ["How old is {n2} now?", "What is {n2}'s age today?", "Find {n2}'s current age."],
    ],
    "system": [
        ["Solve the system of equations:", "Find {u} and {w} if", "Two unknowns satisfy", "Solve simultaneously:"],
        ["{e1} and {e2}.", "{e1}; {e2}.", "{e1}, together with {e2}."],
    ],
    "marbles": [
        [
            "A {box} holds {r} {c1}, {b} {c2} and {g} {c3} {things}.",
            "In a {box} there are {r} {c1} {things}, {b} {c2} ones and {g} {c3} ones.",
            "{n1}'s {box} has {things} in it: {r} {c1}, {b} {c2} and {g} {c3}.",
        ],
        [
            "Two are drawn at random without replacement.",
            "{n1} takes out two without looking, one after the other.",
            "Two are picked at random and not put back.",
        ],
        [
            "What is the probability that both are {c1}?",
            "How likely is it that both are {c1}?",
            "What are the chances that the two are {c1}?",
        ],
    ],
    "recipe": [
        [
            "A recipe for {n} servings uses {g} {unit} of {ingr}.",
            "To make {n} portions of {dish} you need {g} {unit} of {ingr}.",
            "{n1}'s {dish} recipe serves {n} and calls for {g} {unit} of {ingr}.",
        ],
        [
            "How much {ingr} is needed for {m} servings?",
            "How much {ingr} should go into {m} portions?",
            "Scaled to {m} portions, how much {ingr} does it take?",
        ],
    ],
    "multiples": [
        [
            "Find the sum of all multiples of {k} between 1 and {big}.",
            "What do all the multiples of {k} from 1 to {big} add up to?",
            "Add up every whole number up to {big} that is divisible by {k}.",
            "{n1} writes down each multiple of {k} no larger than {big}. What is their total?",
        ],
    ],
    "interest": [
        [
            "A loan of ${p} is charged {r}% simple interest per year.",
            "{n1} borrows ${p} at {r}% simple annual interest.",
            "${p} sits in a savings account paying {r}% simple interest a year.",
        ],
        [
            "How much interest accrues after {t} years?",
            "What is the total interest after {t} years?",
            "How much interest is there after {t} years?",
        ],
    ],
    "reading": [
        [
            "{n1} reads {a} pages on {d1} and {b} pages on {d2}",
            "On {d1} {n1} gets through {a} pages of a {book}, and on {d2} {b} pages",
            "{n1} manages {a} pages of a {book} on {d1} and {b} on {d2}",
        ],
        [
            ", then {c} times as many pages on {d3} as on {d1}.",
            ". On {d3} {n1} reads {c} times the {d1} amount.",
            ", and on {d3} {c} times what was read on {d1}.",
        ],
        ["How many pages is that over the three days?", "How many pages were read in total?", "What is the total?"],
    ],
    "work": [
        [
            "{n1} can {job} in {a} hours; {n2} can do it in {b} hours.",
            "Working alone, {n1} takes {a} hours to {job} and {n2} takes {b} hours.",
            "It takes {n1} {a} hours to {job}, while {n2} needs {b} hours.",
        ],
        [
            "How long does it take if they work together?",
            "Working side by side, how many hours do they need?",
            "If both work at once, after how long is the job done?",
        ],
    ],
    "average": [
        [
            "{n1}'s scores on the first {k} {tests} are {scores}.",
            "After {k} {tests}, {n1} has scored {scores}.",
            "{n1} got {scores} in {k} {tests} so far.",
        ],
        [
            "What score is needed on the next one to bring the average up to {target}?",
            "What must the next score be for an average of exactly {target}?",
            "Which score on the next one makes the mean {target}?",
        ],
    ],
    "ratio": [
        [
            "{n1} and {n2} share ${total} in the ratio {a}:{b}.",
            "${total} is split between {n1} and {n2} in the ratio {a} to {b}.",
            "{n1} and {n2} divide a ${total} {prize} {a}:{b}.",
        ],
        ["How much does {n2} receive?", "What is {n2}'s share?", "How many dollars go to {n2}?"],
    ],
    "growth": [
        [
            "The population of {town} grew from {p0} to {p1}.",
            "{town} had {p0} residents ten years ago and has {p1} now.",
            "Over a decade, {town} went from {p0} to {p1} inhabitants.",
        ],
        ["By what percentage did it grow?", "What is the percentage increase?", "How large was the growth in percent?"],
    ],
    "meet": [
        [
            "{town} and {town2} are {dist} km apart.",
            "The road from {town} to {town2} is {dist} km long.",
            "{dist} km of road separate {town} from {town2}.",
        ],
        [
            "{n1} leaves {town} at {v1} km/h and {n2} leaves {town2} at {v2} km/h at the same moment, heading towards "
            "each other.",
            "At noon {n1} sets off from {town} at {v1} km/h while {n2} starts from {town2} at {v2} km/h, coming the "
            "other way.",
            "{n1} drives out of {town} at {v1} km/h; {n2} drives out of {town2} at {v2} km/h; both start together.",
        ],
        ["After how many hours do they meet?", "When do they pass each other?", "How long until they meet?"],
    ],
    "choose": [
        [
            "In how many ways can {k} of {n} {people} be chosen for a {group}?",
            "How many different {group}s of {k} can be formed from {n} {people}?",
            "A {group} of {k} is picked from {n} {people}. How many possible choices are there?",
        ],
    ],
    "bestbuy": [
        [
            "A pack of {s1} {thing} costs ${p1}, and a pack of {s2} costs ${p2}.",
            "{thing_cap} come in packs of {s1} for ${p1} or packs of {s2} for ${p2}.",
            "The shop sells {s1} {thing} for ${p1} or {s2} for ${p2}.",
        ],
        [
            "Which is the better deal per {one}, and by how many cents?",
            "Which pack is cheaper per {one}, and by how much?",
            "Which option costs less for each {one}, and what is the difference?",
        ],
    ],
    "circle": [
        [
            "A round {thing} has a {kind} of {r} {unit}.",
            "The {kind} of a circular {thing} is {r} {unit}.",
            "{n1} measures a round {thing}: its {kind} is {r} {unit}.",
        ],
        [
            "What is its area? Use pi = 3.14.",
            "Taking pi as 3.14, what area does it cover?",
            "How big is its area, with pi = 3.14?",
        ],
    ],
    "clock": [
        [
            "A {event} starts at {h}:{mm} and lasts {m} minutes.",
            "{n1}'s {event} begins at {h}:{mm} and runs for {m} minutes.",
            "The {event} is {m} minutes long and starts at {h}:{mm}.",
        ],
        ["What time does it end?", "When does it finish?", "At what time is it over?"],
    ],
    "vans": [
        [
            "{n} people are going on a {trip}, and each {vehicle} seats {k}.",
            "A {trip} for {n} people needs {vehicles} that take {k} passengers each.",
            "{n} guests must be driven to a {trip} in {vehicles} of {k} seats.",
        ],
        [
            "How many {vehicles} are needed?",
            "What is the smallest number of {vehicles} that will do?",
            "How many {vehicles} must be booked?",
        ],
    ],
    "savings": [
        [
            "{n1} has ${b} saved and puts away ${a} every week.",
            "Each week {n1} adds ${a} to savings that already hold ${b}.",
            "Starting from ${b}, {n1} saves ${a} a week.",
        ],
        [
            "How many weeks until there is enough for a ${target} {want}?",
            "After how many weeks can {n1} afford a ${target} {want}?",
            "When will the savings first cover a {want} costing ${target}?",
        ],
    ],
}


# ---------------------------------------------------------------------------------------------------------------
# Capability questions: code
# Algorithm tasks, tasks over a kind of record, buggy functions, SQL and complexity questions (``q_code``).

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
    "returns a topological order of tasks given their prerequisites, or reports that none exists",
    "finds the longest common subsequence of two strings and returns it",
    "checks whether a Sudoku board of 81 cells is valid so far",
    "implements binary search that returns the leftmost index of a value in a sorted list",
    "returns the minimum number of coins that make an amount from given denominations",
    "finds the maximum sum of a contiguous subarray and its bounds",
    "converts an integer to its English words, e.g. 1204 to 'one thousand two hundred four'",
    "generates every valid combination of n pairs of parentheses",
    "implements a trie with insert, exact search and prefix search",
    "returns the k closest points to the origin from a list of (x, y) pairs",
    "decodes a string like '3[ab]2[c]' into 'abababcc'",
    "finds the lowest common ancestor of two nodes in a binary search tree",
    "computes the number of distinct ways to climb n stairs taking 1 or 2 steps",
    "reverses the words of a sentence in place without reversing the letters",
    "checks whether one string is a rotation of another using a single substring test",
    "schedules meetings into the fewest rooms given their start and end times",
    "implements a min-heap with push, pop and peek, without a library heap",
    "finds the shortest word ladder between two words given a dictionary",
    "returns the day of the week for any date in the Gregorian calendar without a date library",
    "wraps a paragraph to a given width without breaking words",
    "finds every path from the top-left to the bottom-right of a grid moving right or down",
    "computes the area of a polygon from its vertices with the shoelace formula",
    "checks whether a linked list is a palindrome in O(1) extra space",
    "implements a rate limiter that allows n calls per rolling minute per user",
    "computes the longest increasing subsequence of a list in O(n log n)",
    "removes the nth node from the end of a singly linked list in one pass",
    "converts a number between any two bases from 2 to 36",
    "finds the connected components of an undirected graph with union-find",
    "returns the largest rectangle area in a histogram",
    "validates an e-mail address by a small set of rules and says which rule fails",
    "tokenises a line of CSV with quoted fields and escaped quotes",
    "computes Dijkstra shortest paths from one node of a weighted graph",
    "shuffles a list uniformly at random in place (Fisher-Yates)",
    "finds the majority element of an array in linear time and constant space",
    "pretty-prints a JSON-like nested dictionary with sorted keys and indentation",
    "diffs two lists of lines and prints the added and removed lines",
]
CODE_OPENERS = [
    "Write a {lang} function that {task}.",
    "In {lang}, implement a function that {task}.",
    "Implement a {lang} routine that {task}.",
    "Using {lang}, write code that {task}.",
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
# a kind of record: what it is called, one of it, and three of its fields (a key, a number, a time)
CODE_RECORDS = [
    ("orders", "order", "customer", "amount", "order date"),
    ("sensor readings", "reading", "sensor id", "temperature", "timestamp"),
    ("library loans", "loan", "member", "late fee", "loan date"),
    ("deliveries", "delivery", "driver", "distance", "delivered_at"),
    ("support tickets", "ticket", "team", "minutes to resolve", "opened_at"),
    ("workouts", "workout", "athlete", "calories", "session date"),
    ("invoices", "invoice", "client", "total", "due date"),
    ("flights", "flight", "airline", "delay in minutes", "departure date"),
    ("bank transactions", "transaction", "account", "value", "posting date"),
    ("log entries", "entry", "service", "latency", "time"),
    ("exam results", "result", "student", "mark", "sitting date"),
    ("bike rentals", "rental", "station", "ride minutes", "start time"),
    ("shipments", "shipment", "warehouse", "weight", "ship date"),
    ("meter readings", "reading", "meter", "kWh", "reading date"),
    ("job applications", "application", "role", "years of experience", "applied_at"),
    ("hotel bookings", "booking", "guest", "nights", "check-in date"),
    ("parking tickets", "ticket", "number plate", "fine", "issued_at"),
    ("survey responses", "response", "region", "score", "submitted_at"),
    ("pull requests", "pull request", "author", "lines changed", "merged_at"),
    ("restaurant orders", "order", "table", "bill", "seated_at"),
]
CODE_RECORD_FORMS = [
    "Given a list of {items} with the fields {key}, {num} and {when}, write a {lang} function that {op}.",
    "You have {items} as records of ({key}, {num}, {when}). In {lang}, write a function that {op}.",
    "Our {items} are stored with three fields: {key}, {num} and {when}. Write {lang} code that {op}.",
]
CODE_RECORD_OPS = [
    "groups the {items} by {key} and returns the total {num} for each",
    "returns the {k} {items} with the largest {num}, ties broken by the earliest {when}",
    "drops duplicate {items} that share a {key}, keeping only the latest by {when}",
    "computes a rolling seven-day sum of {num} ordered by {when}",
    "returns, for each {key}, the first and the last {when} seen",
    "lists every {key} whose total {num} is above the average across all of them",
    "sorts the {items} by {when} and returns page p of size n",
    "flags any {item} whose {num} is more than three standard deviations from the mean",
    "merges two lists of {items}, each already sorted by {when}, into one sorted list",
    "counts how many {items} fall in each calendar month of their {when}",
    "finds the longest run of consecutive days, by {when}, with at least one {item}",
    "builds a map from {key} to its {items}, each list sorted by {num} from high to low",
    "checks that every {item} has a non-empty {key}, a non-negative {num} and a real {when}, and returns the bad "
    "ones with a reason",
    "returns the median {num} per {key}",
    "reads the {items} from a CSV file and writes a summary CSV with one row per {key}",
    "finds the {key} whose {num} grew the most between the first and the second half of the period by {when}",
    "returns the {key} values that appear in every week covered by the {when} range",
    "converts every {when} to UTC and sorts the {items} by it, stable for equal times",
    "picks one {item} per {key} at random, reproducibly for a given seed",
    "gives, for each {key}, its share of the total {num} as percentages that add up to exactly 100",
]
# (language, what the function should do, what it does instead, the code)
BUGGY_CODE = [
    ("Python", "return the average of a list", "crashes on an empty list and is off for some inputs",
     "def average(xs):\n    total = 0\n    for x in xs[1:]:\n        total += x\n    return total / len(xs)"),
    ("Python", "count how often each word occurs", "counts every word as 1",
     "def word_counts(text):\n    counts = {}\n    for w in text.split():\n        counts[w] = 1\n    return counts"),
    ("JavaScript", "return the largest number in an array", "returns the wrong value when all numbers are negative",
     "function maxOf(xs) {\n    let best = 0;\n    for (const x of xs) if (x > best) best = x;\n    return best;\n}"),
    ("Python", "remove the even numbers from a list in place", "skips some even numbers",
     "def drop_even(xs):\n    for i, x in enumerate(xs):\n        if x % 2 == 0:\n            del xs[i]\n"
     "    return xs"),
    ("Python", "append an item to a fresh list on each call unless one is given", "keeps items from earlier calls",
     "def add_item(item, bucket=[]):\n    bucket.append(item)\n    return bucket"),
    ("JavaScript", "sort numbers from smallest to largest", "puts 10 before 9",
     "function sortNums(xs) {\n    return xs.sort();\n}"),
    ("Python", "return True when a number is prime", "says 9 and 1 are prime",
     "def is_prime(n):\n    for d in range(2, int(n ** 0.5)):\n        if n % d == 0:\n            return False\n"
     "    return True"),
    ("Go", "sum the numbers from 1 to n", "is one short",
     "func sumTo(n int) int {\n    s := 0\n    for i := 1; i < n; i++ {\n        s += i\n    }\n    return s\n}"),
    ("Python", "return the index of a value in a sorted list, or -1", "loops forever on some inputs",
     "def find(xs, v):\n    lo, hi = 0, len(xs) - 1\n    while lo <= hi:\n        mid = (lo + hi) // 2\n"
     "        if xs[mid] < v:\n            lo = mid\n        elif xs[mid] > v:\n            hi = mid - 1\n"
     "        else:\n            return mid\n    return -1"),
    ("Java", "compare two strings for equal text", "returns false for equal strings read from input",
     "static boolean same(String a, String b) {\n    return a == b;\n}"),
]  # fmt: skip
BUGGY_FORMS = [
    "This {lang} function should {should} but {wrong}. Find the bug and fix it.\n\n{code}",
    "The {lang} code below is meant to {should}; it {wrong}. What is wrong, and what is the corrected version?"
    "\n\n{code}",
]
# (table definitions, what the query should return)
SQL_TASKS = [
    ("orders(id, customer_id, total, created_at)", "each customer's three largest orders"),
    ("orders(id, customer_id, total, created_at)", "the month-over-month change in revenue"),
    ("employees(id, name, manager_id, salary)", "every employee who earns more than their manager"),
    ("employees(id, name, department, salary)", "the second-highest salary in each department"),
    ("logins(user_id, logged_in_at)", "users who logged in on at least five consecutive days"),
    ("logins(user_id, logged_in_at)", "the share of users active last week who came back this week"),
    ("products(id, name, category); sales(product_id, qty, sold_on)", "the best-selling product of each category"),
    ("products(id, name); sales(product_id, qty, sold_on)", "products that have never been sold"),
    ("trips(id, rider_id, driver_id, fare, started_at)", "the median fare per hour of the day"),
    ("rooms(id, hotel_id); bookings(room_id, check_in, check_out)", "rooms booked twice for the same night"),
    ("students(id, name); grades(student_id, course, grade)", "students whose average grade dropped between terms"),
    ("events(session_id, name, at)", "sessions where 'checkout' happened without a 'cart' event before it"),
    ("accounts(id, created_at); payments(account_id, amount, paid_at)", "days from sign-up to first payment, "
     "averaged per sign-up month"),
    ("posts(id, author_id, created_at); likes(post_id, user_id)", "the ten authors with the most likes per post"),
]  # fmt: skip
SQL_FORMS = [
    "Tables: {tables}. Write a SQL query that returns {want}.",
    "Given the schema {tables}, write one SQL query for {want}.",
]
COMPLEXITY_SUBJECTS = [
    "binary search on a sorted array",
    "building a heap from an unsorted array",
    "merge sort on a linked list",
    "checking every pair of elements for a duplicate",
    "breadth-first search on a graph with V vertices and E edges",
    "inserting n keys into a balanced binary search tree",
    "the naive recursive Fibonacci function",
    "quicksort when the pivot is always the smallest element",
    "looking up a key in a hash table with many collisions",
    "computing all subsets of a set of n elements",
    "the Floyd-Warshall all-pairs shortest path algorithm",
    "counting sort on n integers in the range 0 to k",
]
COMPLEXITY_FORMS = [
    "What are the time and space complexity of {subject}? Explain briefly.",
    "Give the worst-case running time of {subject}, and say why.",
]


# ---------------------------------------------------------------------------------------------------------------
# Capability questions: logic
# Orderings, seating puzzles, syllogisms, sequences, calendars, knights and knaves, conditionals (``q_logic``).

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# (comparative, superlative, its opposite superlative)
TRAITS = [
    ("taller", "tallest", "shortest"),
    ("older", "oldest", "youngest"),
    ("faster", "fastest", "slowest"),
    ("heavier", "heaviest", "lightest"),
    ("richer", "richest", "poorest"),
    ("earlier to arrive", "first to arrive", "last to arrive"),
]
ORDER_ASKS = [
    "Who is the {sup}?",
    "Which of them is the {sup}?",
    "Name the {sup} of the group.",
    "Rank them from {sup} to {opp}.",
]
# (where they are, one place of it, the word for "before" in it)
SEAT_PLACES = [
    ("sit in a row of {n} chairs, numbered 1 to {n} from the left", "chair", "to the left of"),
    ("stand in a queue of {n}, place 1 being the front", "place", "ahead of"),
    ("live in a row of {n} houses numbered 1 to {n}", "house", "before"),
    ("park in a row of {n} numbered bays", "bay", "before"),
]
CATEGORIES = [
    ("bloops", "razzies", "lazzies"),
    ("painters", "musicians", "early risers"),
    ("squares", "rectangles", "rhombuses"),
    ("robots", "machines", "toys"),
    ("glorps", "flinks", "zarbs"),
    ("doctors", "graduates", "runners"),
    ("tulips", "flowers", "red things"),
    ("whales", "mammals", "fish"),
    ("poets", "writers", "night owls"),
    ("violins", "instruments", "wooden objects"),
    ("trimbles", "vorks", "quillets"),
    ("sailors", "swimmers", "cooks"),
    ("comets", "icy bodies", "planets"),
    ("judges", "lawyers", "chess players"),
    ("kettles", "appliances", "red objects"),
    ("pilots", "licence holders", "teenagers"),
]
SYLLOGISM_FORMS = [
    ("All {x} are {y}. Some {y} are {z}. Does it follow that some {x} are {z}?", "no"),
    ("All {x} are {y}. No {y} are {z}. Can any {x} be {z}?", "no"),
    ("No {x} are {y}, and all {z} are {y}. Are any {z} also {x}?", "no"),
    ("Some {x} are {y}, and every {y} is {z}. Must some {x} be {z}?", "yes"),
]
SEQUENCE_ASKS = [
    "What number comes next in the sequence {seq}, ...?",
    "Continue the pattern: {seq}, ... What is the next term?",
    "Which number should follow {seq}?",
    "Find the next number: {seq}, __",
]
CALENDAR_FORMS = [
    "If {back} days ago was a {day}, what day of the week will it be {fwd} days from now?",
    "Today is {back} days after a {day}. Which weekday falls {fwd} days from today?",
    "{name}'s birthday was {back} days ago, on a {day}. On which weekday is the party {fwd} days from now?",
    "A parcel was posted on a {day}, {back} days ago, and arrives {fwd} days from today. On what weekday does it "
    "arrive?",
]
# (what the speaker says, with {a} the speaker and {b} the other; what each of them is)
KNIGHT_CLAIMS = [
    ("'{b} and I are both knaves.'", "{a} is a knave and {b} is a knight"),
    ("'At least one of us is a knave.'", "{a} is a knight and {b} is a knave"),
    ("'{b} is a knave, and so am I.'", "{a} is a knave and {b} is a knight"),
    ("'We are the same kind.' {b} says: '{a} is a knave.'", "{a} is a knave and {b} is a knight"),
    ("'If I am a knight, then {b} is a knight too.'", "both are knights"),
]
KNIGHT_FORMS = [
    "On an island, knights always tell the truth and knaves always lie. {a} says: {claim} What are {a} and {b}?",
    "Every islander is either a knight, who never lies, or a knave, who always lies. {a} tells you {claim} "
    "Which is {a} and which is {b}?",
    "You meet {a} and {b} on the island of knights, who always tell the truth, and knaves, who always lie. {a} "
    "says {claim} Who is what?",
    "Knights only say true things, knaves only false ones. When asked about {b}, {a} answers {claim} Decide what "
    "each of them is.",
]
# (if P then Q, as a sentence; the negation of Q; the question about P; its answer) for modus tollens
CONDITIONALS = [
    ("If it rains, {name} takes the bus", "{name} did not take the bus", "Did it rain this morning?", "no"),
    ("Whenever the alarm is set, the red light is on", "the red light is off", "Is the alarm set?", "no"),
    ("If the shop is open, its sign is lit", "the sign is dark", "Is the shop open?", "no"),
    ("Every time {name} bakes, the kitchen smells of cinnamon", "the kitchen does not smell of cinnamon",
     "Did {name} bake?", "no"),
    ("If the train is late, {name} misses the meeting", "{name} made it to the meeting",
     "Was the train late?", "no"),
    ("All packages over 2 kg need a stamp", "this package has no stamp", "Can it weigh over 2 kg?", "no"),
    ("If the password is right, the door opens", "the door stayed shut", "Was the password right?", "no"),
    ("When the river floods, the ferry stops", "the ferry ran all day", "Did the river flood?", "no"),
]  # fmt: skip
CONDITIONAL_FORMS = [
    "{rule}. Today {fact}. {ask} Explain.",
    "Suppose: {rule}. We know that {fact}. {ask}",
]


# ---------------------------------------------------------------------------------------------------------------
# Capability questions: science and history
# Explain-why, how-it-works, history essays, multiple-choice facts and small calculations (``q_science_history``,
# ``eval_suite``).

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
    "a siren sounds higher as the ambulance comes towards you",
    "cut apples turn brown",
    "a bicycle is easier to balance when it is moving",
    "your ears pop in a plane",
    "soap removes grease that water alone leaves behind",
    "coastal towns often wake up to fog on summer mornings",
    "stars twinkle but planets mostly do not",
    "a candle flame points upwards",
    "clothes dry faster on a windy day",
    "a magnifying glass can start a fire",
    "the Earth has seasons",
    "a frozen lake freezes from the top down",
    "a helium voice sounds high",
    "sunburn happens even on cloudy days",
    "deserts get cold at night",
    "compasses point roughly north",
    "dew forms on grass overnight",
    "a hot-air balloon rises",
    "popcorn pops",
    "a rainbow is curved",
    "copper pipes turn green over the years",
    "cats land on their feet",
    "hair stands up after rubbing a balloon on it",
    "a glass of cold water sweats on a warm day",
    "the tide comes in about an hour later each day",
    "yeast makes dough rise",
    "snow is white although ice is clear",
    "a boat made of steel floats",
    "jet lag is worse flying east",
    "a spinning top stays upright until it slows down",
    "boiling water stays at the same temperature while the burner keeps heating it",
    "a straw can lift a drink but not from very deep",
    "mirrors swap left and right but not up and down",
    "a rubber band gets warm when you stretch it quickly",
    "ice cubes crack when dropped into a warm drink",
    "the sea looks blue on a clear day",
    "metal spoons get hot in soup faster than wooden ones",
    "old books smell the way they do",
    "the wind usually blows from the sea during the day at the beach",
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
    "a heat pump warms a house from cold outside air",
    "the heart keeps blood flowing in one direction",
    "a microwave oven heats food",
    "GPS works out where a phone is",
    "caves form in limestone",
    "a wind turbine turns wind into electricity",
    "the lungs move oxygen into the blood",
    "soil forms from bare rock",
    "a camera sensor records an image",
    "a vaccine is tested before approval",
    "clouds produce rain",
    "the water cycle moves water around the planet",
    "bees find their way back to the hive",
    "a touchscreen senses a finger",
    "an electric motor turns current into motion",
    "a fever helps the body fight an infection",
    "a solar panel turns sunlight into current",
    "glaciers carve U-shaped valleys",
    "a seed knows which way is up when it germinates",
    "noise-cancelling headphones remove a steady hum",
    "a smoke detector notices smoke",
    "fermentation turns grape juice into wine",
    "an MRI scanner makes an image of soft tissue",
    "a hurricane gets its energy from warm sea water",
    "the inner ear keeps us balanced",
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
    "the Mongol conquests of the thirteenth century",
    "the Industrial Revolution in Britain",
    "the independence of Latin American countries from Spain",
    "the Marshall Plan",
    "the building of the Panama Canal",
    "the end of apartheid in South Africa",
    "the Chinese Cultural Revolution",
    "the Scramble for Africa",
    "the moon landing of 1969",
    "the American Civil War",
    "the Congress of Vienna",
    "the fall of Constantinople",
    "the Irish Famine",
    "the founding of the United Nations",
]
HIST_ASKS = [
    "What were the main causes and consequences of {}?",
    "Why did {} happen when it did?",
    "Who gained and who lost from {}?",
    "How do historians disagree about {}?",
    "Summarise {} for someone who has never studied it.",
    "What role did economics play in {}?",
    "Which three turning points shaped {}?",
    "How is {} remembered differently in different countries?",
]
# history questions each about one thing (an ask above is a template over ``HIST_EVENTS``: each is asked once)
HIST_QUESTIONS = [
    "Why did Rome's western half fall while Constantinople lasted another thousand years?",
    "How did the spread of cheap printed pamphlets change religious arguments in sixteenth-century Germany?",
    "What did the samurai class lose, and what did some of its members gain, after 1868 in Japan?",
    "Why did farming practices on the southern Great Plains turn a drought into a catastrophe in the 1930s?",
    "How did the drawing of the border in 1947 shape the lives of families in Punjab and Bengal?",
    "Which economic problems of the 1980s made reform in the Soviet Union so hard to control?",
    "How did enslaved people in Saint-Domingue defeat the armies of three European powers?",
    "What changed for peasants and landlords in Europe in the decades after the plague of 1347?",
    "Why did Britain and France lose face when they tried to retake the canal at Suez in 1956?",
    "How did Bismarck use three short wars to build a German state around Prussia?",
    "What did each side give up to end the standoff over missiles in Cuba in October 1962?",
    "Why did the Qing court fight Britain over opium, and what did the treaties that followed cost China?",
    "How did Luther's protest in Wittenberg become a political movement across northern Europe?",
    "Why did bank failures in the United States after 1929 spread unemployment to Germany and beyond?",
    "What arguments and campaigns led Britain to ban its slave trade in 1807?",
    "How did the Mongol empire keep messages and trade moving across Eurasia?",
    "Why did the first factories appear in textile towns in the north of England?",
    "What did Simón Bolívar hope Gran Colombia would become, and why did it break apart?",
    "How did American aid after 1948 change the economies and politics of western Europe?",
    "What did the French attempt to dig a canal across Panama teach the engineers who came later?",
    "How did sanctions, protest and negotiation together bring down apartheid in South Africa?",
    "What happened to schools and universities in China between 1966 and 1976?",
    "Why did European powers divide almost all of Africa between them in about twenty-five years?",
    "How did the race to the Moon shape science education in the United States?",
    "Why did the question of slavery in the western territories push the United States towards civil war?",
    "What balance of power did the diplomats at Vienna try to build in 1815, and how long did it last?",
    "Why did Ottoman cannons matter so much in the siege of Constantinople in 1453?",
    "How did British policy during the potato blight turn a crop failure into mass emigration from Ireland?",
    "Why was the United Nations given a Security Council with permanent members and vetoes?",
    "How did the Silk Road move ideas and diseases as well as goods?",
    "What did the Magna Carta actually promise in 1215, and to whom?",
    "Why did the Aztec capital fall to a small Spanish force and its many local allies?",
    "How did the telegraph change the way newspapers reported wars in the nineteenth century?",
    "What led to the partition of Korea after the Second World War?",
    "Why did the Weimar Republic struggle to win the loyalty of Germans in the 1920s?",
    "How did the Green Revolution change food production in India in the 1960s and 1970s?",
    "What did the suffragette campaigns in Britain do differently from earlier campaigns for the vote?",
    "How did the Hanseatic League organise trade between cities around the Baltic Sea?",
    "Why did the Khmer Empire build Angkor where it did, and why was the city later left?",
    "What were the aims of the Non-Aligned Movement when it began in 1961?",
    "How did the Meiji government pay for railways and factories in its first decades?",
    "Why did the Spanish flu of 1918 spread so quickly around the world?",
    "What did Ashoka change in the way he ruled after the war in Kalinga?",
    "How did the Battle of Adwa in 1896 affect Ethiopia's place in the world?",
    "Why did the Dutch Republic become the centre of European trade in the seventeenth century?",
    "How did the end of the Bretton Woods system in 1971 change exchange rates?",
    "What did the Treaty of Westphalia settle in 1648, and what did it leave open?",
    "Why did the Berlin airlift happen, and how did it end?",
    "How did the Inca road network hold together an empire without a written script as we know it?",
    "What did the Tanzimat reforms try to change in the Ottoman Empire?",
]
SCIENCE_OPENERS = ["Explain why {}.", "Why is it that {}?", "What is the science behind the fact that {}?"]
PROCESS_OPENERS = ["Describe how {}.", "Explain how {}.", "Walk me through how {}."]
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
    ("Which gas makes up most of the Sun?", "hydrogen", ["helium", "oxygen", "neon"]),
    ("Which particle has no electric charge?", "the neutron", ["the proton", "the electron", "the positron"]),
    ("Which city was the capital of the Byzantine Empire?", "Constantinople", ["Athens", "Antioch", "Ravenna"]),
    ("What is the pH of pure water at 25 °C?", "7", ["5", "9", "14"]),
    ("Which organelle releases energy from food in a cell?", "the mitochondrion", ["the Golgi body", "the nucleolus",
     "the lysosome"]),
    ("Which explorer's expedition first sailed around the world?", "Ferdinand Magellan's", ["Vasco da Gama's",
     "James Cook's", "Christopher Columbus's"]),
    ("Which mountain range separates Europe from Asia in Russia?", "the Urals", ["the Alps", "the Carpathians",
     "the Pyrenees"]),
    ("What is the common name for sodium bicarbonate?", "baking soda", ["table salt", "chalk", "washing soda"]),
    ("Which layer of the atmosphere holds most of the ozone?", "the stratosphere", ["the troposphere",
     "the mesosphere", "the thermosphere"]),
    ("In which country did the Industrial Revolution begin?", "Britain", ["France", "Germany", "the Netherlands"]),
]  # fmt: skip
FACT_SUBJECTS = ["biology", "world history", "physics", "chemistry", "geography", "economics", "astronomy", "art"]
FACT_FORMS = ["{q} {opts}", "Choose one. {q} {opts}", "Multiple choice: {q} {opts}"]
# small calculations: (compound, molar mass in g/mol)
COMPOUNDS = [
    ("water", 18),
    ("carbon dioxide", 44),
    ("table salt (NaCl)", 58.5),
    ("glucose", 180),
    ("methane", 16),
    ("ammonia", 17),
    ("calcium carbonate", 100),
    ("ethanol", 46),
]
FALLING_THINGS = ["stone", "tennis ball", "set of keys", "water balloon", "pine cone", "bolt"]
FALL_PLACES = ["a bridge", "a cliff edge", "a balcony", "the top of a crane", "a lighthouse gallery"]
APPLIANCES = ["fridge", "electric heater", "aquarium pump", "laptop", "dehumidifier", "games console"]
# (wave, where it travels, frequencies in Hz, wavelengths in m)
WAVES = [
    ("sound wave", " in air", [170, 340, 680], [0.5, 1, 2]),
    ("ripple", " on a pond", [2, 3, 4, 5], [0.1, 0.2, 0.25, 0.5]),
    ("ocean swell", " at sea", [0.1, 0.125, 0.2], [40, 60, 80, 120]),
    ("wave on a guitar string", "", [110, 220, 330], [0.65, 1.3]),
    ("wave along a stretched spring", "", [1, 2, 3], [0.4, 0.6, 0.8]),
]
SCIENCE_CALCS = {
    "moles": [
        "How many grams of {compound} are in {n} moles? (molar mass {mm} g/mol)",
        "What is the mass of {n} mol of {compound}, given a molar mass of {mm} g/mol?",
        "A chemist needs {n} moles of {compound}. How many grams is that, at {mm} g/mol?",
    ],
    "fall": [
        "A {thing} is dropped from {place}, {h} m above the water. How long does it fall, ignoring air resistance "
        "(g = 9.8 m/s²)?",
        "{name} lets go of a {thing} on {place}, {h} m up. When does it hit the water? Use g = 9.8 m/s².",
        "How many seconds does a {thing} take to fall {h} m from {place}, with g = 9.8 m/s² and no air resistance?",
    ],
    "energy": [
        "A {appliance} rated at {p} W runs {hrs} hours a day. How many kWh does it use in {d} days?",
        "How much energy, in kWh, does a {p} W {appliance} use if it is on {hrs} hours a day for {d} days?",
    ],
    "wave": [
        "A {wave}{where} has a frequency of {f} Hz and a wavelength of {lam} m. How fast does it travel?",
        "What is the speed of a {wave}{where} whose wavelength is {lam} m and frequency {f} Hz?",
    ],
    "density": [
        "A block of {material} measures {a} cm by {b} cm by {c} cm and has a mass of {m} g. What is its density?",
        "What is the density of a {material} sample of {m} g that fills {a} x {b} x {c} cm?",
    ],
}
MATERIALS = ["oak", "aluminium", "wax", "granite", "cork", "brass", "ice", "clay"]


# ---------------------------------------------------------------------------------------------------------------
# Capability questions: math in other languages
# Word problems in Spanish, French, German, Chinese, Swahili and Portuguese (``q_multilingual``): each language's
# shapes with its own names and things; the generator computes the numbers and the answer.

ML_NAMES = {
    "es": ["María", "Javier", "Lucía", "Andrés", "Carmen", "Diego", "Valeria", "Tomás"],
    "fr": ["Camille", "Hugo", "Léa", "Julien", "Chloé", "Mathis", "Inès", "Louis"],
    "de": ["Lena", "Felix", "Jonas", "Mia", "Paul", "Hanna", "Emil", "Greta"],
    "zh": ["小明", "小红", "李华", "王芳", "张伟", "小刚", "刘洋", "陈静"],
    "sw": ["Juma", "Amina", "Baraka", "Neema", "Hamisi", "Zawadi", "Rehema", "Omari"],
    "pt": ["Ana", "João", "Beatriz", "Rafael", "Mariana", "Tiago", "Luísa", "Pedro"],
}
ML_THINGS = {
    "es": ["cuadernos", "lápices", "entradas de cine", "camisetas", "libros", "botellas de agua", "macetas"],
    "fr": ["cahiers", "crayons", "places de concert", "baguettes", "livres", "pots de confiture", "stylos"],
    "de": ["Hefte", "Stifte", "Kinokarten", "Brötchen", "Bücher", "Blumentöpfe", "Briefmarken"],
    "zh": ["本书", "支铅笔", "个苹果", "张邮票", "个面包", "瓶水", "盆花"],
    "sw": ["machungwa", "maembe", "mayai", "vitabu", "kalamu", "ndizi", "mikate"],
    "pt": ["cadernos", "canetas", "bilhetes", "camisetas", "livros", "garrafas de sumo", "vasos"],
}
# each shape: its text with slots {n1} {n2} (names), {t} (a thing) and numbers the generator fills
ML_SHAPES = {
    "es": {
        "cambio": "{n1} compra {a} {t} a {p} euros cada uno y paga con un billete de {bill} euros. ¿Cuánto le "
        "devuelven?",
        "reparto": "{n1} y {n2} se reparten {total} euros en la proporción {r1}:{r2}. ¿Cuánto recibe {n2}?",
        "viaje": "Un autobús sale a {v} km/h y viaja durante {h} horas. Después recorre {d} km más. ¿Cuántos "
        "kilómetros recorre en total?",
        "descuento": "Unas zapatillas cuestan {p} euros y tienen un descuento del {pct}%. ¿Cuánto paga {n1}?",
        "edades": "{n1} tiene {g} años más que {n2}. Dentro de {k} años sus edades sumarán {s}. ¿Qué edad tiene "
        "{n2} ahora?",
    },
    "fr": {
        "jardin": "Un jardin rectangulaire mesure {a} m de long et {b} m de large. Quelle est son aire, et combien "
        "de mètres de clôture faut-il pour l'entourer ?",
        "partage": "{n1} et {n2} se partagent {total} euros : {n1} reçoit {r1} parts et {n2} {r2} parts. Combien "
        "reçoit {n2} ?",
        "vitesse": "{n1} parcourt {d} km à vélo en {h} heures. Quelle est sa vitesse moyenne ?",
        "courses": "{n1} achète {a} {t} à {p} euros pièce. Quel est le total, et combien reste-t-il sur un "
        "billet de {bill} euros ?",
        "recette": "Une recette pour {n} personnes demande {g} g de farine. Combien en faut-il pour {m} personnes ?",
    },
    "de": {
        "zug": "Ein Zug fährt {dist} km in {h} Stunden. Wie schnell fährt er im Durchschnitt, und wie weit kommt "
        "er in {k} Stunden?",
        "einkauf": "{n1} kauft {a} {t} zu je {p} Euro und bezahlt mit einem {bill}-Euro-Schein. Wie viel "
        "Wechselgeld bekommt {n1}?",
        "prozent": "Ein Fahrrad kostet {p} Euro. Im Angebot ist es {pct} % günstiger. Wie viel kostet es jetzt?",
        "alter": "{n1} ist {g} Jahre älter als {n2}. In {k} Jahren sind beide zusammen {s} Jahre alt. Wie alt ist "
        "{n2} heute?",
        "arbeit": "{n1} streicht einen Zaun in {a} Stunden, {n2} in {b} Stunden. Wie lange brauchen beide zusammen?",
    },
    "zh": {
        "送书": "{n1}有{a}{t}，又买了{b}{t}，然后送给朋友{c}{t}。{n1}现在有多少？",
        "速度": "一辆汽车每小时行驶{v}千米，{n1}坐车走了{h}小时，一共走了多少千米？",
        "打折": "一件外套原价{p}元，打{z}折后{n1}要付多少元？",
        "分配": "{n1}和{n2}按{r1}:{r2}分{total}元，{n2}分到多少元？",
        "年龄": "{n1}比{n2}大{g}岁，{k}年后两人年龄之和是{s}岁。{n2}今年几岁？",
    },
    "sw": {
        "kugawa": "{n1} ana {t} {a}. Anampa {n2} {b} na rafiki yake {c}. Amebaki na {t} mangapi?",
        "kununua": "{n1} ananunua {t} {a} kwa shilingi {p} kila moja na analipa shilingi {bill}. Atapata chenji "
        "kiasi gani?",
        "safari": "Basi linasafiri kilomita {v} kwa saa moja kwa saa {h}. Limesafiri kilomita ngapi kwa jumla?",
        "umri": "{n1} ni mkubwa kuliko {n2} kwa miaka {g}. Baada ya miaka {k}, jumla ya umri wao itakuwa {s}. "
        "{n2} ana miaka mingapi sasa?",
    },
    "pt": {
        "desconto": "Uma loja vende {t} a {p} reais cada. {n1} compra {a} e recebe um desconto de {pct}%. Quanto paga?",
        "viagem": "{n1} viaja {h} horas a {v} km/h e depois mais {d} km. Quantos quilómetros percorre no total?",
        "poupanca": "{n1} já tem {b} reais e poupa {a} reais por semana. Em quantas semanas terá {target} reais?",
        "troco": "{n1} compra {a} {t} a {p} reais cada e paga com uma nota de {bill} reais. Quanto recebe de troco?",
        "divisao": "{n1} e {n2} dividem {total} reais na razão {r1}:{r2}. Quanto recebe {n2}?",
    },
}


# ---------------------------------------------------------------------------------------------------------------
# Capability questions: tool use
# Function definitions sent in a request's ``tools`` (``tool_specs``) and the user requests that call them
# (``tool_request``): each tool's ways of asking, filled from the banks below.

# name -> (description, {parameter: (JSON type, description, or a list of allowed values)})
TOOLS = {
    "get_weather": ("Get the weather forecast for a city on a date.",
                    {"city": ("string", "city name"), "date": ("string", "YYYY-MM-DD")}),
    "send_email": ("Send an e-mail from the user's account.",
                   {"to": ("string", "recipient address"), "subject": ("string", "subject line"),
                    "body": ("string", "plain-text body")}),
    "search_flights": ("Search one-way flights.",
                       {"origin": ("string", "IATA code"), "destination": ("string", "IATA code"),
                        "date": ("string", "YYYY-MM-DD")}),
    "convert_currency": ("Convert an amount between currencies at today's rate.",
                         {"amount": ("number", "amount to convert"), "from": ("string", "ISO 4217 code"),
                          "to": ("string", "ISO 4217 code")}),
    "create_event": ("Add an event to the user's calendar.",
                     {"title": ("string", "event title"), "start": ("string", "ISO 8601 date-time"),
                      "minutes": ("integer", "duration in minutes")}),
    "lookup_stock": ("Look up the latest price of a listed share.", {"symbol": ("string", "ticker symbol")}),
    "translate": ("Translate a text into another language.",
                  {"text": ("string", "text to translate"), "target_lang": ("string", "language name or code")}),
    "set_reminder": ("Set a reminder that notifies the user at a time.",
                     {"text": ("string", "what to remind"), "at": ("string", "ISO 8601 date-time")}),
    "query_orders": ("List a customer's orders by status.",
                     {"customer_id": ("string", "customer id"), "status": ("string", ["open", "shipped", "returned"])}),
}  # fmt: skip
TOOL_REQUESTS = {
    "get_weather": [
        "Will I need an umbrella in {city} on {day}?",
        "What's the forecast for {city} on {day}? I'm deciding whether to {outing}.",
        "Is it going to be warm enough to {outing} in {city} on {day}?",
    ],
    "send_email": [
        "Email {who}@example.com that the {meeting} moves to {hour} pm.",
        "Send {who}@example.com a short note saying I'll be {late} minutes late to the {meeting}.",
        "Write to {who}@example.com and ask whether the {meeting} can start at {hour}:30 instead.",
    ],
    "search_flights": [
        "Find me a flight from {a} to {b} on {day}.",
        "Are there any direct flights {a} to {b} on {day}? Cheapest first.",
        "I need to get from {a} to {b} on {day}, ideally arriving before evening.",
    ],
    "convert_currency": [
        "How much is {amount} {c1} in {c2}?",
        "Convert {amount} {c1} to {c2} for my expense report.",
        "My {thing} cost {amount} {c1}. What is that in {c2}?",
    ],
    "create_event": [
        "Put a {mins}-minute '{title}' on my calendar on {day} at {hour}:00.",
        "Block {mins} minutes for {title} on {day}, starting {hour}:00.",
        "Schedule '{title}' for {day} at {hour}:00; it takes about {mins} minutes.",
    ],
    "lookup_stock": [
        "What is {sym} trading at right now?",
        "Check the latest price of {sym} and tell me if it's above {amount}.",
        "How is {sym} doing today?",
    ],
    "translate": [
        "Say '{phrase}' in {lang}.",
        "How would I write '{phrase}' in {lang}?",
        "Translate this for a sign in my shop, into {lang}: '{phrase}'",
    ],
    "set_reminder": [
        "Remind me to {task} on {day} at {hour}:00.",
        "Set a reminder for {day}, {hour}:15: {task}.",
        "Don't let me forget to {task} - ping me on {day} at {hour}:00.",
    ],
    "query_orders": [
        "Which orders of customer C-{cid} are still {status}?",
        "List every {status} order for customer C-{cid}.",
        "Customer C-{cid} is asking about their {status} orders. What are they?",
    ],
}
TOOL_ASKS = [
    "{r}\nUse the functions provided and reply with the call(s) as JSON.",
    "Handle this request with the available tools, answering only with the function call(s): {r}",
    "User request: {r}\nDecide which function(s) to call and with what arguments.",
]
AIRPORTS = ["LIS", "NRT", "JFK", "CDG", "GRU", "SYD", "ORD", "BER", "NBO", "YVR", "MEX", "ICN", "DXB", "CPT", "AKL"]
CURRENCIES = ["EUR", "USD", "JPY", "GBP", "BRL", "INR", "CHF", "CAD", "ZAR", "SEK"]
OUTINGS = ["go for a long run", "have a picnic", "hang laundry outside", "go sailing", "hike the coast path",
           "take the kids to the zoo", "paint the fence"]  # fmt: skip
MEETINGS = ["design review", "budget meeting", "parents' evening", "team lunch", "client call", "book club"]
CAL_TITLES = ["dentist", "team sync", "gym", "call with the landlord", "piano lesson", "vet appointment",
              "quarterly review", "haircut", "school pickup"]  # fmt: skip
TICKERS = ["ACME", "GLBX", "NRTH", "VOLT", "PINE", "KORA", "BRKL", "SUNW"]
TOOL_PHRASES = ["where is the train station", "we open at nine", "please take off your shoes", "fresh bread daily",
                "the lift is out of order", "cash only, sorry", "back in ten minutes"]  # fmt: skip
TOOL_LANGS = ["French", "Japanese", "Swahili", "Polish", "Turkish", "Portuguese", "Korean", "Dutch"]
REMINDER_TASKS = ["pay rent", "call mum", "water the plants", "renew my passport", "book the MOT",
                  "send the invoice", "buy a birthday card", "back up my laptop"]  # fmt: skip
PURCHASES = ["hotel", "train ticket", "dinner", "conference pass", "taxi"]


# ---------------------------------------------------------------------------------------------------------------
# The campaigns' wrappers (the project's own wording)
# reasoning-harvest wraps a question as ``{q}`` in a user message, one wrapper with a system message of its own
# (``(system, user)``); grader-sweep wraps a question ``{q}`` and a candidate answer ``{a}``, the candidate typed in
# one of ``CANDIDATE_FORMS``.

HARVEST_WRAPPERS = [
    (
        "",
        "Work through the problem below as carefully as you can. Write out every step of your reasoning before you "
        "commit to an answer, including any checks you make along the way.\n\nProblem:\n{q}\n\nFinish with a line "
        "of the form 'Final answer: ...'.",
    ),
    (
        "",
        "I am putting together a study guide and I need complete worked solutions, not just results.\n\n{q}\n\n"
        "Think it through step by step, explain why each step follows from the previous one, and only then state "
        "the answer.",
    ),
    (
        "Reason in detail before answering any task. Show your full chain of thought, note any assumptions you make, "
        "then give the answer on its own line prefixed with ANSWER:",
        "[TASK]\n{q}",
    ),
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
# One fixed system prompt; the user message is a customer ticket, the agent's note and the agent's name
# (``saas_request``).

SAAS_SYSTEM = (
    "You are the reply assistant built into Harbor Desk, a help-desk app for small online shops. Write in a warm, "
    "plain and professional voice. Keep replies under 120 words unless the agent asks for more. Never make up "
    "prices, dates or order details that are not in the ticket. Sign off with the agent's first name."
)
SAAS_USER = "Ticket from the customer:\n{ticket}\n\nAgent's note: {note}\nAgent: {agent}"
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


# ---------------------------------------------------------------------------------------------------------------
# Conversations: follow-ups and the assistant's earlier replies
# An ordinary user's next turn in the same chat (``FOLLOW_UPS``, typed casually) and the short replies the
# conversation shows before it (``reply``: an opener and a closer; never a real answer, only there as history).

FOLLOW_UPS = [
    "can you make it shorter?",
    "make it a bit more casual",
    "Thanks! Could you give me two more options?",
    "what about if I only have half the time?",
    "ok and what would you change first?",
    "can you explain the second point more",
    "Hmm, that's not quite what I meant. Simpler please.",
    "could you put that in a list",
    "and for a beginner?",
    "Perfect. Now a version for my boss.",
    "what if it's raining though",
    "is there a cheaper way?",
    "nice, can you add an example",
    "Shorter, like two sentences.",
    "why is that?",
    "can you double check that last part",
    "Great, now translate it to Spanish.",
    "less formal pls",
    "Could you turn this into a checklist?",
    "what would you recommend out of those?",
    "does that still work for two people?",
    "and how long would that take?",
    "OK. What should I avoid?",
    "can you give me the short version for a text message",
    "that's helpful. one more question about it",
    "Can you say it without the jargon?",
    "what's the most common mistake here?",
    "and if I'm on a tight budget?",
    "Could you rewrite the ending?",
    "good, now bullet points",
]
REPLY_OPENERS = [
    "Sure, here is a first version you can adjust.",
    "Happy to help with that.",
    "Good question, and a common one.",
    "Here's how I'd approach it.",
    "Of course. A few options below.",
    "That depends a little on your situation, but here is a starting point.",
    "Here is a draft.",
    "Let's break it down.",
]
REPLY_CLOSERS = [
    "Tell me if you want it shorter or in a different tone.",
    "I can go into more detail on any of these.",
    "Let me know what you'd like to change.",
    "If you share more details, I can tailor it.",
    "Want me to turn this into a list?",
    "Happy to adjust it.",
]


# ---------------------------------------------------------------------------------------------------------------
# Ordinary traffic: users of a public coding agent
# One agent product every user runs the same way: its system prompt and tools, the tasks people give it, and the
# tool results each step sends back (file listings, file contents, search hits, test runs).

AGENT_SYSTEM = (
    "You are Quill, a coding assistant that works inside the user's project through the tools below. Say in one "
    "sentence what you are about to do before each tool call, prefer the smallest change that solves the task, and "
    "report the test results when you finish. If the request is ambiguous, ask before editing."
)
# name -> (description, {parameter: (JSON type, description)})
AGENT_TOOLS = {
    "list_files": ("Show the files and folders under a path of the project.", {"path": ("string", "folder path")}),
    "open_file": ("Return the contents of a project file, optionally a range of lines.",
                  {"path": ("string", "file path"), "start": ("integer", "first line"),
                   "end": ("integer", "last line")}),
    "search_code": ("Find lines matching a pattern across the project.",
                    {"pattern": ("string", "text or regular expression"), "glob": ("string", "file filter")}),
    "run_tests": ("Run the project's test suite, or one test file, and return the output.",
                  {"target": ("string", "test file or folder")}),
}  # fmt: skip
AGENT_VERBS = ["fix", "add", "refactor", "speed up", "write tests for", "clean up", "document", "rename"]
AGENT_TARGETS = [
    ("the date parsing in {path}", "src/utils/dates.py"),
    ("the login form validation", "web/src/forms/login.ts"),
    ("the CSV export in {path}", "app/export/csv_writer.py"),
    ("the retry logic of the HTTP client", "lib/http/client.go"),
    ("the cart total calculation", "shop/cart/totals.js"),
    ("the config loader in {path}", "core/config.rs"),
    ("the pagination of the orders endpoint", "api/routes/orders.py"),
    ("the image resizing job", "workers/thumbs.py"),
    ("the search box debounce", "web/src/components/Search.tsx"),
    ("the database migration for user emails", "db/migrations/0042_user_email.sql"),
    ("the rate limiter middleware", "server/middleware/limit.ts"),
    ("the Markdown renderer's table support", "docs_tool/render.py"),
]
AGENT_DETAILS = [
    "It fails on inputs with a timezone offset.",
    "Users see a blank page when the list is empty.",
    "Please keep the public function names the same.",
    "The tests in the CI log are flaky since last week.",
    "It is too slow with 10k rows.",
    "Follow the style of the neighbouring files.",
    "There's an off-by-one somewhere, I think.",
    "Don't touch the generated files.",
    "",
    "",
]
AGENT_TASK_FORMS = [
    "{verb} {target}. {detail}",
    "Can you {verb} {target}? {detail}",
    "please {verb} {target} {detail}",
    "I need you to {verb} {target}. {detail}",
]
AGENT_FILES = [
    "README.md",
    "pyproject.toml",
    "package.json",
    "Makefile",
    "src/",
    "tests/",
    "docs/",
    "scripts/",
    ".github/workflows/ci.yml",
    "src/main.py",
    "src/utils/__init__.py",
    "src/utils/dates.py",
    "src/utils/strings.py",
    "tests/test_dates.py",
    "tests/conftest.py",
    "web/src/App.tsx",
    "web/src/forms/login.ts",
    "lib/http/client.go",
    "lib/http/client_test.go",
    "core/config.rs",
    "api/routes/orders.py",
    "docs/architecture.md",
    "CHANGELOG.md",
    "Dockerfile",
]
# lines of the project's files by extension: what the agent's file views and search hits show
AGENT_CODE = {
    "py": [
        "def parse_date(value: str) -> date:",
        "    return datetime.strptime(value, FORMAT).date()",
        "    writer.writerow([row.id, row.name, row.amount])",
        "    page = int(request.args.get('page', 1))",
        "    offset = (page - 1) * PAGE_SIZE",
        "    if count > LIMIT:",
        "        raise TooManyRequests()",
        "    img.thumbnail((width, height))",
        "class Exporter:",
        "    # TODO: handle the empty case",
    ],
    "ts": [
        "export function validate(form: LoginForm): string[] {",
        "  if (!form.email.includes('@')) errors.push('email');",
        "  const timer = setTimeout(() => onSearch(query), 300);",
        "  return () => clearTimeout(timer);",
        "const limiter = new Map<string, number[]>();",
        "  if (hits.length >= MAX_PER_MINUTE) return res.status(429).end();",
    ],
    "js": [
        "const total = items.reduce((s, i) => s + i.price * i.qty, 0);",
        "export function applyDiscount(total, code) {",
        "  return Math.round(total * 100) / 100;",
        "  if (!items.length) return 0;",
    ],
    "go": [
        "for attempt := 0; attempt < maxRetries; attempt++ {",
        "    time.Sleep(backoff * time.Duration(attempt))",
        "    if resp.StatusCode < 500 {",
        "        return resp, nil",
        "func (c *Client) Do(req *http.Request) (*http.Response, error) {",
    ],
    "rs": [
        "let cfg: Config = toml::from_str(&text)?;",
        "pub fn load(path: &Path) -> Result<Config, Error> {",
        "    let text = fs::read_to_string(path)?;",
        '#[serde(default = "default_port")]',
    ],
    "sql": [
        "ALTER TABLE users ADD COLUMN email_verified BOOLEAN DEFAULT FALSE;",
        "UPDATE users SET email = lower(email);",
        "CREATE UNIQUE INDEX users_email_idx ON users (email);",
    ],
}
AGENT_TEST_NAMES = [
    "test_parse_iso_date",
    "test_parse_with_offset",
    "test_empty_cart_total",
    "test_export_headers",
    "test_retry_gives_up",
    "test_login_rejects_blank_email",
    "test_orders_second_page",
    "test_config_defaults",
    "test_thumbnail_keeps_ratio",
    "test_limit_resets_each_minute",
    "test_render_table_alignment",
    "test_migration_is_reversible",
]
AGENT_ERRORS = [
    "AssertionError: expected 2026-03-01, got 2026-02-28",
    "TypeError: Cannot read properties of undefined (reading 'length')",
    "ValueError: time data '2026-11-05T10:00:00+01:00' does not match format",
    "KeyError: 'page'",
    "AssertionError: 3 != 4",
    "panic: runtime error: index out of range [5] with length 5",
]
