"""Words, titles and XML escaping for generated courses.

Generated text has to look like course text (several languages, some non-ASCII, some characters
that need escaping) while staying cheap: it is drawn from small word lists with the course's
`random.Random`, so it is deterministic for a seed.
"""

from __future__ import annotations

import functools
import random

# Vocabulary per language (whitespace separated).
_VOCABULARY: dict[str, str] = {
    "en": """analysis energy signal circuit model data learning system network function
        probability matrix vector theory practice example method result problem solution
        equation variable distribution sample estimate error feedback control design policy
        history culture economy market price supply demand growth trade climate water carbon
        cell protein gene evolution species brain memory language writing reading argument
        evidence source research question answer lecture reading exercise project review
        algorithm program loop recursion graph tree search sort memory compiler interface
        the of and to in is that for with as on by this from are be we can an which""",
    "es": """análisis energía señal circuito modelo datos aprendizaje sistema red función
        probabilidad matriz teoría práctica ejemplo método resultado problema solución
        ecuación variable distribución economía mercado precio crecimiento clima agua
        célula proteína evolución lenguaje investigación pregunta respuesta lección
        el la de y en que por con para los las una es""",
    "de": """Analyse Energie Signal Schaltung Modell Daten Lernen System Netzwerk Funktion
        Wahrscheinlichkeit Matrix Theorie Übung Beispiel Methode Ergebnis Lösung Gleichung
        Größe Verteilung Wirtschaft Markt Preis Wachstum Klima Wasser Zelle Sprache Forschung
        Frage Antwort Vorlesung Prüfung der die das und in ist für mit von über""",
    "fr": """analyse énergie signal circuit modèle données apprentissage système réseau fonction
        probabilité matrice théorie pratique exemple méthode résultat problème solution
        équation variable économie marché prix croissance climat eau cellule langage
        recherche question réponse leçon le la les de et en est pour avec des""",
    "ru": """анализ энергия сигнал схема модель данные обучение система сеть функция
        вероятность матрица теория практика пример метод результат задача решение
        уравнение переменная экономика рынок цена рост климат вода клетка язык
        исследование вопрос ответ лекция и в на что это по для""",
    "zh": """分析 能量 信号 电路 模型 数据 学习 系统 网络 函数 概率 矩阵 理论 实践 例子 方法
        结果 问题 解答 方程 变量 分布 经济 市场 价格 增长 气候 水 细胞 语言 研究 讲座""",
}

_WORDS: dict[str, tuple[str, ...]] = {
    lang: tuple(text.split()) for lang, text in _VOCABULARY.items()
}

LANGUAGES: tuple[str, ...] = tuple(_WORDS)
_STREAM_WORDS = 1 << 16
# Sentence lengths (6-16 words) in a fixed shuffled order; a paragraph takes a run of them.
_SENTENCE_LENGTHS = tuple(random.Random(0).choices(range(6, 17), k=4096))

# Titles that need escaping in XML attributes and text.
_TRICKY_TITLES = (
    'Q&A: "Office hours"',
    "Week <0>: Getting started",
    "Review & practice",
    "It's a trap: edge cases",
)

_KIND_LABELS: dict[str, tuple[str, ...]] = {
    "chapter": ("Week", "Module", "Unit", "Part"),
    "sequential": ("Lesson", "Lecture", "Homework", "Lab", "Exercises", "Reading"),
    "vertical": ("Video", "Reading", "Practice", "Check your understanding", "Summary"),
}


@functools.cache
def _stream(language: str) -> tuple[str, ...]:
    """A fixed pseudo-random stream of the language's words; text is drawn as slices of it."""
    return tuple(random.Random(language).choices(_WORDS[language], k=_STREAM_WORDS))


def words(rng: random.Random, language: str, count: int) -> str:
    """`count` words of `language`, space separated (one random draw, whatever `count` is)."""
    start = rng.randrange(_STREAM_WORDS - count)
    return " ".join(_stream(language)[start : start + count])


def sentence(rng: random.Random, language: str, low: int = 6, high: int = 16) -> str:
    """One capitalised sentence ending in a full stop."""
    return _capitalised(words(rng, language, rng.randint(low, high))) + "."


def paragraph(rng: random.Random, language: str, sentences: int) -> str:
    """`sentences` sentences of 6-16 words joined into one paragraph (two random draws)."""
    return " ".join(_split_sentences(rng, language, sentences))


def lines(rng: random.Random, language: str, count: int) -> list[str]:
    """`count` sentences, as separate lines (subtitle cues, list items)."""
    return _split_sentences(rng, language, count)


def _split_sentences(rng: random.Random, language: str, count: int) -> list[str]:
    first = rng.randrange(len(_SENTENCE_LENGTHS) - count)
    lengths = _SENTENCE_LENGTHS[first : first + count]
    at = rng.randrange(_STREAM_WORDS - sum(lengths))
    out = []
    for length in lengths:
        out.append(_capitalised(" ".join(_stream(language)[at : at + length])) + ".")
        at += length
    return out


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def title(rng: random.Random, language: str, kind: str, position: int) -> str:
    """A display name for a container of `kind` at 1-based `position` (sometimes tricky)."""
    if rng.random() < 0.02:
        return rng.choice(_TRICKY_TITLES)
    label = rng.choice(_KIND_LABELS.get(kind, ("Item",)))
    return f"{label} {position}: {words(rng, language, rng.randint(1, 4)).capitalize()}"


def hex_id(rng: random.Random, bits: int = 128) -> str:
    """A Studio-style hex identifier (url_names are uuid4 hex: 32 characters)."""
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def xml_text(value: str) -> str:
    """Escape `value` for XML character data."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_attrs(attrs: dict[str, str]) -> str:
    """Render attributes as ` name="value"...` with every value escaped for double quotes."""
    return "".join(
        f' {name}="{xml_text(value).replace(chr(34), "&quot;")}"' for name, value in attrs.items()
    )


def element(tag: str, attrs: dict[str, str], body: str = "") -> str:
    """One XML element; self-closing when `body` is empty."""
    if not body:
        return f"<{tag}{xml_attrs(attrs)}/>"
    return f"<{tag}{xml_attrs(attrs)}>{body}</{tag}>"


def container(tag: str, attrs: dict[str, str], children: list[str]) -> str:
    """An element holding `children` one per indented line, as Studio pretty-prints them."""
    return element(tag, attrs, "".join(f"\n  {child}" for child in children) + "\n")


def encode_xml(text: str, charrefs: bool) -> bytes:
    """UTF-8 bytes, or ASCII with numeric character references (`&#1070;`) like older exports."""
    if charrefs:
        return text.encode("ascii", "xmlcharrefreplace")
    return text.encode("utf-8")
