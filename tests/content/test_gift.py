"""Moodle GIFT import and export (apps.content.interchange.gift): pure functions, no database."""

import hashlib
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from apps.content.atom_types import OptionData, get_atom_type
from apps.content.interchange.gift.export import export_gift
from apps.content.interchange.gift.normalise import generated_external_id, normalise_record
from apps.content.interchange.gift.parse import GiftItem, parse_gift

ROUND_TRIP_FIELDS = ("external_id", "title", "atom_type", "content", "grading_logic", "options")


def gen_id(title: str, text: str) -> str:
    return (
        "gift-" + hashlib.sha1(f"{title}\n{text}".encode(), usedforsecurity=False).hexdigest()[:12]
    )


def assert_valid(record: dict) -> None:
    options = [
        OptionData(
            index=o["index"],
            text=o["text"],
            is_correct=o["is_correct"],
            feedback=o["feedback"],
            misconception_id=o["misconception"],
        )
        for o in record["options"]
    ]
    get_atom_type(record["atom_type"]).validate(record["content"], record["grading_logic"], options)


def only(text: str) -> GiftItem:
    items = parse_gift(text)
    assert len(items) == 1, items
    return items[0]


def record_of(text: str) -> dict:
    item = only(text)
    assert item.error is None, item.error
    return item.record


def error_of(text: str) -> str:
    item = only(text)
    assert item.record is None
    return item.error


def option(index: int, text: str, is_correct: bool = False, feedback: str = "") -> dict:
    return {
        "index": index,
        "text": text,
        "is_correct": is_correct,
        "feedback": feedback,
        "misconception": None,
    }


def record(atom_type, content, grading, options=(), **extra) -> dict:
    return {
        "external_id": extra.get("external_id"),
        "title": extra.get("title", "A question"),
        "atom_type": atom_type,
        "content": content,
        "grading_logic": grading,
        "options": list(options),
        "concepts": [],
        "tags": extra.get("tags", []),
        "metadata": {},
    }


# --- a realistic file ------------------------------------------------------------------------
SAMPLE = r"""// Networking quiz, exported from Moodle and edited by hand.
$CATEGORY: $course$/top/Networking Basics

// external_id: net-001
::TCP ordering::[html]Which protocol guarantees <b>in-order</b> delivery?{
  =TCP#It numbers and reorders segments.
  ~UDP#UDP makes no ordering promise.
  ~ICMP
  ####Ordering is a transport-layer job.
}

::UDP retransmission::UDP retransmits lost datagrams.
{F#Retransmission is TCP's job.#Right!####UDP has no acknowledgements.}

// A short answer without a title; the blank is in the middle.
The default HTTP port is {=80 =%0%8080#8080 is a common alternative, not the default}.

$CATEGORY: $course$/top/Maths Ünit 2

// external_id: math-pi
::Pi::What is pi to two decimals? {#3.14:0.005}

::Dice::Name a number a die can show {#1..6}

::Ports::[markdown]Match each protocol with its default port. {
  =HTTP -> 80
  =HTTPS -> 443
  =SSH -> 22
  = -> 25
}

::Escapes\: all::Is 1 \= 1, are \{braces\} and \~ \# fine? Line\nbreak, a\\backslash {TRUE}

::Essay::Write about TCP. {}
"""


def test_sample_file_parses_to_exact_records():
    items = parse_gift(SAMPLE)
    networking, maths = ["networking-basics"], ["maths-unit-2"]
    expected = [
        GiftItem(
            5,
            record(
                "mcq",
                {
                    "prompt": "Which protocol guarantees <b>in-order</b> delivery?",
                    "explanation": "Ordering is a transport-layer job.",
                },
                {},
                [
                    option(0, "TCP", True, "It numbers and reorders segments."),
                    option(1, "UDP", False, "UDP makes no ordering promise."),
                    option(2, "ICMP"),
                ],
                external_id="net-001",
                title="TCP ordering",
                tags=networking,
            ),
            None,
        ),
        GiftItem(
            12,
            record(
                "true_false",
                {
                    "statement": "UDP retransmits lost datagrams.",
                    "explanation": "UDP has no acknowledgements.",
                },
                {"answer": False, "feedback_wrong": "Retransmission is TCP's job."},
                external_id=gen_id("UDP retransmission", "UDP retransmits lost datagrams."),
                title="UDP retransmission",
                tags=networking,
            ),
            None,
            (
                "Dropped the feedback for a right answer: true/false atoms only have feedback "
                "for a wrong one.",
            ),
        ),
        GiftItem(
            16,
            record(
                "short_text",
                {"prompt": "The default HTTP port is _____."},
                {
                    "accepted": ["80"],
                    "wrong_answers": [
                        {
                            "text": "8080",
                            "feedback": "8080 is a common alternative, not the default",
                        }
                    ],
                },
                external_id=gen_id(
                    "The default HTTP port is _____.", "The default HTTP port is _____."
                ),
                title="The default HTTP port is _____.",
                tags=networking,
            ),
            None,
        ),
        GiftItem(
            21,
            record(
                "numeric",
                {"prompt": "What is pi to two decimals?"},
                {"answer": 3.14, "tolerance": 0.005},
                external_id="math-pi",
                title="Pi",
                tags=maths,
            ),
            None,
        ),
        GiftItem(
            23,
            record(
                "numeric",
                {"prompt": "Name a number a die can show"},
                {"answer": 3.5, "tolerance": 2.5},
                external_id=gen_id("Dice", "Name a number a die can show"),
                title="Dice",
                tags=maths,
            ),
            None,
        ),
        GiftItem(
            25,
            record(
                "matching",
                {
                    "prompt": "Match each protocol with its default port.",
                    "left": ["HTTP", "HTTPS", "SSH"],
                    "right": ["80", "443", "22", "25"],
                },
                {"pairs": {"HTTP": "80", "HTTPS": "443", "SSH": "22"}},
                external_id=gen_id("Ports", "Match each protocol with its default port."),
                title="Ports",
                tags=maths,
            ),
            None,
        ),
        GiftItem(
            32,
            record(
                "true_false",
                {"statement": "Is 1 = 1, are {braces} and ~ # fine? Line\nbreak, a\\backslash"},
                {"answer": True},
                external_id=gen_id(
                    "Escapes: all",
                    "Is 1 = 1, are {braces} and ~ # fine? Line\nbreak, a\\backslash",
                ),
                title="Escapes: all",
                tags=maths,
            ),
            None,
        ),
        GiftItem(34, None, "Essay questions ({}) are not supported."),
    ]
    assert items == expected


def test_every_parsed_record_passes_its_type_validation():
    records = [item.record for item in parse_gift(SAMPLE) if item.record]
    assert {r["atom_type"] for r in records} == {
        "mcq",
        "true_false",
        "short_text",
        "numeric",
        "matching",
    }
    for parsed in records:
        assert_valid(parsed)
        assert normalise_record(parsed) == parsed  # already canonical


def test_parsing_is_deterministic_and_never_mutates_between_calls():
    assert parse_gift(SAMPLE) == parse_gift(SAMPLE)


# --- one bad question never stops the others -------------------------------------------------
def test_errors_do_not_stop_other_questions():
    text = "\n\n".join(
        [
            "::Good 1:: 2 + 2 = 4 {T}",
            "::Essay:: Discuss. {}",
            "Just some text, no answers.",
            "::Multi:: Pick two {~%50%a ~%50%b ~%-100%c}",
            "::Bad number:: How many? {#lots}",
            "::Unclosed:: What? {=a ~b",
            "::Good 2:: Capital of France? {=Paris}",
        ]
    )
    items = parse_gift(text)
    assert [item.line for item in items] == [1, 3, 5, 7, 9, 11, 13]
    assert [item.record is not None for item in items] == [
        True,
        False,
        False,
        False,
        False,
        False,
        True,
    ]
    assert "Essay" in items[1].error
    assert "description" in items[2].error
    assert "multiple-answer" in items[3].error
    assert "'lots' is not a number" in items[4].error
    assert "not closed" in items[5].error
    assert items[6].record["grading_logic"] == {"accepted": ["Paris"]}


@pytest.mark.parametrize(
    ("gift", "message"),
    [
        ("::E:: Write. {}", "Essay questions ({}) are not supported."),
        ("::E:: Write. {####General feedback}", "Essay questions"),
        ("Only a description here.", "description items"),
        ("::M:: Pick {~%50%a ~%50%b ~c}", "multiple-answer questions are not supported"),
        ("::M:: Pick {=a =b ~c}", "multiple-answer questions are not supported"),
        ("::M:: Pick {~%50%a ~b}", "partial credit is not supported"),
        ("::M:: Pick {~a ~b}", "No answer is marked right"),
        ("::M:: Pick {=a ~}", "Answer 2 is empty"),
        ("::M:: Pick {junk =a ~b}", "Text before the first answer ('junk')"),
        ("::C:: The {=a} and the {=b}.", "more than one blank"),
        ("::C:: A } then {=a}", "a '}' comes before any '{'"),
        ("::C:: A {=a} }", "an extra '}'"),
        ("::C:: A {=a", "not closed"),
        ("::C:: A {=a {b}", "inside the answer block"),
        ("::Title without end: A {T}", "question name is not closed"),
        ("::S:: Say {=%50%cat =dog}", "partial credit is not supported"),
        ("::S:: Say {=%0%cat}", "No answer is worth 100%"),
        ("::S:: Say {cat}", "Cannot tell the question type from {cat}"),
        ("::S:: Say {= =a}", "Answer 1 is empty"),
        ("::N:: How many? {#}", "needs an answer"),
        ("::N:: How many? {#lots}", "'lots' is not a number"),
        ("::N:: How many? {#1e999}", "too large"),
        ("::N:: How many? {#5..1}", "runs backwards"),
        ("::N:: How many? {#3:-1}", "is negative"),
        ("::N:: How many? {#=3:0.1 =4:0.1}", "disagree"),
        ("::N:: How many? {#=%50%3}", "partial credit is not supported"),
        ("::N:: How many? {#=%0%3}", "No answer is worth 100%"),
        ("::X:: Match {=a -> b}", "at least two pairs"),
        ("::X:: Match {=a -> b =c}", "has no '->'"),
        ("::X:: Match {=a -> b =c -> }", "nothing after '->'"),
        ("::X:: Match {=a -> b =a -> c}", "listed twice"),
        ("::X:: Match {=a -> b =c -> d} please", "middle of the text"),
        ("::T:: The sky {T} is blue", "middle of the text"),
        ("::T:: {T}", "content.statement"),
        ("::M:: {=a ~b}", "content.prompt"),
        ("::S:: Say {=cat =%0%cat}", "would be graded correct"),
        ("::N:: N? {#=3:1 =%0%3.5}", "Within tolerance"),
        (
            "// external_id: one\n// external_id: two\n::Q:: Sure? {T}",
            "Several different '// external_id:' comments (lines 1, 2)",
        ),
        ("::Q:: Bad \ud800 char {T}", "surrogate"),
    ],
)
def test_unsupported_or_malformed_questions_become_error_items(gift, message):
    assert message in error_of(gift)


# --- features --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "expected"),
    [("T", True), ("TRUE", True), ("F", False), ("FALSE", False), ("true", True), (" f ", False)],
)
def test_true_false_spellings(answer, expected):
    parsed = record_of(f"::Q:: Sure? {{{answer}}}")
    assert parsed["atom_type"] == "true_false"
    assert parsed["grading_logic"] == {"answer": expected}


def test_true_false_feedback_wrong_then_right():
    item = only("::Q:: Sure? {TRUE#No, it is true.#Well done.}")
    assert item.record["grading_logic"] == {"answer": True, "feedback_wrong": "No, it is true."}
    assert len(item.warnings) == 1


def test_weighted_mcq_with_a_single_full_credit_answer():
    item = only("::M:: Pick {~%100%right#yes ~%-50%wrong#no ~%0%other}")
    assert item.record["options"] == [
        option(0, "right", True, "yes"),
        option(1, "wrong", False, "no"),
        option(2, "other"),
    ]
    assert item.warnings == ("Dropped the -50% penalty of answer 'wrong'.",)


def test_mcq_blank_in_the_middle_and_at_the_start():
    assert record_of("The {=cat ~dog} sat.")["content"]["prompt"] == "The _____ sat."
    assert record_of("{=Paris ~Rome} is the capital of France.")["content"] == {
        "prompt": "_____ is the capital of France."
    }


def test_short_answer_blank_in_the_middle_and_feedback_warning():
    item = only("::S:: Two plus two is {=4#Yes =four} exactly.")
    assert item.record["content"] == {"prompt": "Two plus two is _____ exactly."}
    assert item.record["grading_logic"] == {"accepted": ["4", "four"]}
    assert item.warnings == ("Dropped the feedback of the right answer '4'.",)


def test_numeric_multiple_answers_wrong_answers_and_dropped_details():
    item = only(
        "::N:: Distance in km? {#=30:0.1 =30:0.1#Right =%0%1800#Convert minutes to hours "
        "~#Check your units####Distance is speed times time}"
    )
    assert item.record["grading_logic"] == {
        "answer": 30.0,
        "tolerance": 0.1,
        "wrong_answers": [{"value": 1800.0, "feedback": "Convert minutes to hours"}],
    }
    assert item.warnings == (
        "Dropped the general feedback (####): this atom type has no place for it.",
        "Dropped the feedback for any other answer (~#...).",
        "Dropped the feedback of the right answer 30:0.1.",
    )


@pytest.mark.parametrize(
    ("block", "answer", "tolerance"),
    [
        ("#3.14", 3.14, 0.0),
        ("#-2.5:0.5", -2.5, 0.5),
        ("#1e3:10", 1000.0, 10.0),
        ("#-5..-1", -3.0, 2.0),
        ("#2..2", 2.0, 0.0),
        ("#=7", 7.0, 0.0),
        ("#.5", 0.5, 0.0),
    ],
)
def test_numeric_forms(block, answer, tolerance):
    grading = record_of(f"::N:: Value? {{{block}}}")["grading_logic"]
    assert math.isclose(grading["answer"], answer)
    assert math.isclose(grading.get("tolerance", 0.0), tolerance)


def test_matching_shares_right_items_and_keeps_distractors():
    parsed = record_of("::X:: Classify {=cat -> mammal =dog -> mammal =trout -> fish = -> bird}")
    assert parsed["content"]["left"] == ["cat", "dog", "trout"]
    assert parsed["content"]["right"] == ["mammal", "fish", "bird"]
    assert parsed["grading_logic"]["pairs"] == {"cat": "mammal", "dog": "mammal", "trout": "fish"}


def test_format_markers_are_stripped_everywhere():
    parsed = record_of("::M:: [html]<p>Pick</p> {=[plain]yes#[html]<b>good</b> ~[markdown]no}")
    assert parsed["content"] == {"prompt": "<p>Pick</p>"}
    assert [(o["text"], o["feedback"]) for o in parsed["options"]] == [
        ("yes", "<b>good</b>"),
        ("no", ""),
    ]


def test_escapes_and_unknown_backslashes():
    parsed = record_of(r"::a\:\:b:: C:\\new \x \= \n next {=a\~b\#c\}\{ ~x}")
    assert parsed["title"] == "a::b"
    assert parsed["content"]["prompt"] == "C:\\new \\x = \n next"
    assert parsed["options"][0]["text"] == "a~b#c}{"


def test_multi_line_questions_comments_inside_and_crlf_and_bom():
    text = "\ufeff::Q::\r\n  Which one?\r\n// a comment inside\r\n{\r\n=a\r\n~b\r\n}\r\n"
    item = only(text)
    assert item.line == 1
    assert item.record["content"] == {"prompt": "Which one?"}


def test_title_defaults_to_the_first_60_characters_of_the_text():
    text = "A fairly long question text that goes on and on and on, past sixty characters {T}"
    parsed = record_of(text)
    assert parsed["title"] == text[:60].strip()
    assert record_of("::::  Short   one\nhere {T}")["title"] == "Short one here"


def test_categories_set_tags_until_changed_or_reset():
    text = (
        "::A:: a {T}\n\n$CATEGORY: top/Week 1: Intro\n::B:: b {T}\n\n::C:: c {F}\n\n"
        "$CATEGORY: $course$/top/\n\n::D:: d {T}\n\n$CATEGORY:\n\n::E:: e {T}"
    )
    assert [item.record["tags"] for item in parse_gift(text)] == [
        [],
        ["week-1-intro"],
        ["week-1-intro"],
        ["top"],
        [],
    ]


def test_external_id_comment_applies_to_the_next_question_only():
    text = "// external_id:  q-1 \n\n::A:: a {T}\n\n::B:: b {T}\n\n// external_id:\n::C:: c {T}"
    ids = [item.record["external_id"] for item in parse_gift(text)]
    assert ids == ["q-1", gen_id("B", "b"), gen_id("C", "c")]


def test_empty_and_comment_only_input():
    assert parse_gift("") == []
    assert parse_gift("// nothing\n\n$CATEGORY: x\n\n// external_id: orphan\n") == []


# --- generated external ids ------------------------------------------------------------------
def test_generated_external_ids_are_stable_across_imports_and_file_edits():
    question = "::Capital:: Capital of France? {=Paris ~Rome}"
    first = record_of(question)["external_id"]
    assert (
        first
        == gen_id("Capital", "Capital of France?")
        == generated_external_id("Capital", "Capital of France?")
    )
    # The same question elsewhere in a different file, with other answers and categories.
    edited = f"// intro\n\n::Other:: x {{T}}\n\n$CATEGORY: geo\n\n{question}\n"
    assert parse_gift(edited)[1].record["external_id"] == first
    assert record_of("::Capital:: Capital of France? {=Paris ~Lyon}")["external_id"] == first
    # Changing the title or the text makes a different question.
    assert record_of("::Capital 2:: Capital of France? {=Paris ~Rome}")["external_id"] != first
    assert record_of("::Capital:: Capital of Spain? {=Madrid ~Rome}")["external_id"] != first


def test_duplicate_generated_ids_in_one_file_get_a_suffix():
    text = "::Q:: Same? {T}\n\n::Q:: Same? {F}\n\n::Q:: Same? {T}"
    ids = [item.record["external_id"] for item in parse_gift(text)]
    base = gen_id("Q", "Same?")
    assert ids == [base, f"{base}-2", f"{base}-3"]
    assert [item.record["external_id"] for item in parse_gift(text)] == ids


# --- export ----------------------------------------------------------------------------------
MCQ = record(
    "mcq",
    {"prompt": "Which is a transport protocol?"},
    {},
    [option(0, "TCP", True), option(1, "HTML")],
    external_id="mcq-1",
    title="Transport",
)


def test_export_writes_readable_gift():
    text, skipped = export_gift(
        [
            MCQ,
            record(
                "true_false",
                {"statement": "UDP is reliable.", "explanation": "It is not."},
                {"answer": False, "feedback_wrong": "UDP has no retransmission."},
                external_id="tf-1",
                title="UDP",
                tags=["Networking", "other"],
            ),
        ]
    )
    assert skipped == []
    assert text == (
        "// external_id: mcq-1\n"
        "::Transport:: Which is a transport protocol? {=TCP ~HTML}\n"
        "\n"
        "$CATEGORY: networking\n"
        "\n"
        "// external_id: tf-1\n"
        "::UDP:: UDP is reliable. {FALSE#UDP has no retransmission.####It is not.}\n"
    )


UNSUPPORTED = [
    (
        record("cloze", {"text": "x"}, {}, external_id="c-1"),
        "c-1",
        "GIFT has no equivalent of 'cloze' atoms",
    ),
    (
        record("multi_select", {"prompt": "x"}, {}, title="Multi"),
        "Multi",
        "GIFT has no equivalent of 'multi_select' atoms",
    ),
    ({**MCQ, "content": {"prompt": "p", "shuffle": False}}, "mcq-1", "content.shuffle = False"),
    (
        {
            **MCQ,
            "options": [
                {**option(0, "a", True), "misconception": "2b7d4c8f-0000-4a57-9e61-2b7d4c8f9a10"},
                option(1, "b"),
            ],
        },
        "mcq-1",
        "the misconception linked to option 'a'",
    ),
    (
        record(
            "true_false",
            {"statement": "s"},
            {"answer": True, "misconception_id": "2b7d4c8f-0000-4a57-9e61-2b7d4c8f9a10"},
            title="TF",
        ),
        "TF",
        "grading_logic.misconception_id",
    ),
    (
        record("short_text", {"prompt": "p"}, {"accepted": ["a"], "case_sensitive": True}),
        "A question",
        "grading_logic.case_sensitive = True",
    ),
    (
        record("short_text", {"prompt": "p"}, {"accepted": ["a"], "ignore_punctuation": False}),
        "A question",
        "grading_logic.ignore_punctuation = False",
    ),
    (
        record("short_text", {"prompt": "p"}, {"accepted": ["a"], "ignore_accents": True}),
        "A question",
        "grading_logic.ignore_accents = True",
    ),
    (
        record("short_text", {"prompt": "p"}, {"accepted": ["a"], "regex": "a+"}),
        "A question",
        "grading_logic.regex = 'a+'",
    ),
    (
        record("short_text", {"prompt": "p"}, {"accepted": ["a -> b"]}),
        "A question",
        "'->' in a short answer",
    ),
    (
        record(
            "short_text",
            {"prompt": "p"},
            {
                "accepted": ["a"],
                "wrong_answers": [
                    {"text": "b", "misconception_id": "2b7d4c8f-0000-4a57-9e61-2b7d4c8f9a10"}
                ],
            },
        ),
        "A question",
        "grading_logic.wrong_answers.0.misconception_id",
    ),
    (
        record("numeric", {"prompt": "p", "unit": "km"}, {"answer": 3}),
        "A question",
        "content.unit = 'km'",
    ),
    (
        record("numeric", {"prompt": "p"}, {"answer": 3, "tolerance_mode": "relative"}),
        "A question",
        "grading_logic.tolerance_mode = 'relative'",
    ),
    (
        record("numeric", {"prompt": "p", "unit": "m"}, {"answer": 3, "unit_factors": {"km": 1e3}}),
        "A question",
        "grading_logic.unit_factors",
    ),
    (
        record(
            "matching",
            {"prompt": "p", "left": ["a->b", "c"], "right": ["x", "y"]},
            {"pairs": {"a->b": "x", "c": "y"}},
        ),
        "A question",
        "'->' in the left item 'a->b'",
    ),
    ({**MCQ, "title": "  "}, "mcq-1", "an empty title"),
    ({**MCQ, "external_id": "a\nb"}, "a\nb", "a line break in the external_id"),
    ({**MCQ, "content": {"prompt": ""}}, "mcq-1", "Not a valid multiple choice atom"),
    ({**MCQ, "options": [option(0, "a", True)]}, "mcq-1", "at least two options"),
    ({**MCQ, "options": [option(0, "a", True), option(1, " ")]}, "mcq-1", "Option 1 has no text"),
    ("not a record", "record 2", "Not an atom record"),
]


@pytest.mark.parametrize(("bad", "name", "reason"), UNSUPPORTED)
def test_export_reports_what_gift_cannot_carry(bad, name, reason):
    text, skipped = export_gift([MCQ, bad])
    assert len(skipped) == 1
    assert skipped[0][0] == name
    assert reason in skipped[0][1]
    assert [item.record["external_id"] for item in parse_gift(text)] == ["mcq-1"]


def test_export_of_nothing():
    assert export_gift([]) == ("", [])


# --- round trip ------------------------------------------------------------------------------
def assert_round_trip(original: dict) -> None:
    expected = normalise_record(original)
    text, skipped = export_gift([original])
    assert skipped == [], skipped
    item = only(text)
    assert item.error is None, (item.error, text)
    assert item.warnings == ()
    got = item.record
    for field in ROUND_TRIP_FIELDS:
        assert got[field] == expected[field], (field, text)
    assert got["tags"] == expected["tags"]
    assert normalise_record(got) == got
    assert_valid(got)


HAND_WRITTEN = [
    MCQ,
    record(
        "mcq",
        {"prompt": "  Pick ~ = # { } : \\ one\r\nor two  ", "explanation": "Because #### //"},
        {},
        [
            option(7, "%50% of it", True, "%100%"),
            option(3, "=start", False, "#hash"),
            option(5, "[html]<b>x</b>", False, "[plain]fb"),
            option(9, "a -> b", False),
            option(11, "T", False),
        ],
        external_id="  padded id  ",
        title="Colons :: and {braces}",
        tags=["Week 1"],
    ),
    record("mcq", {"prompt": "Two", "shuffle": True}, {}, [option(0, "%"), option(1, "%x", True)]),
    record("true_false", {"statement": "[markdown]**Bold** claim"}, {"answer": True}),
    record(
        "true_false",
        {"statement": "x", "explanation": "e#"},
        {"answer": False, "feedback_wrong": "#", "misconception_id": ""},
    ),
    record("true_false", {"statement": "TRUE"}, {"answer": False, "feedback_wrong": "T"}),
    record("short_text", {"prompt": "Say it"}, {"accepted": ["T"]}),
    record("short_text", {"prompt": "Say it again"}, {"accepted": ["TRUE", "F#"]}),
    record(
        "short_text",
        {"prompt": "HTTP method?"},
        {
            "accepted": ["GET", "%100%get it"],
            "wrong_answers": [
                {"text": "POST", "feedback": "Not safe."},
                {"text": "%0%", "feedback": ""},
            ],
            "case_sensitive": False,
            "regex": "",
        },
    ),
    record("short_text", {"prompt": "{=blank}"}, {"accepted": ["~", "=", ":x"]}),
    record("numeric", {"prompt": "Pi?"}, {"answer": 3.14159, "tolerance": 0.001}),
    record("numeric", {"prompt": "Zero"}, {"answer": 0}),
    record("numeric", {"prompt": "Neg"}, {"answer": -1e-300, "tolerance": 0}),
    record("numeric", {"prompt": "Big"}, {"answer": 1.7976931348623157e308, "tolerance": 1e308}),
    record(
        "numeric",
        {"prompt": "Train distance?", "unit": ""},
        {
            "answer": 30,
            "tolerance": 0.1,
            "tolerance_mode": "absolute",
            "wrong_answers": [
                {"value": 1800, "feedback": "Convert #minutes# to hours"},
                {"value": -3.5, "feedback": ""},
            ],
        },
    ),
    record(
        "matching",
        {"prompt": "Ports", "left": ["HTTP", "HTTPS", "SSH"], "right": ["25", "22", "443", "80"]},
        {"pairs": {"HTTP": "80", "HTTPS": "443", "SSH": "22"}},
    ),
    record(
        "matching",
        {"prompt": "Shared", "left": ["cat", "dog-", "x"], "right": ["> mammal", "-> fish"]},
        {"pairs": {"cat": "> mammal", "dog-": "> mammal", "x": "-> fish"}},
    ),
    record(
        "matching",
        {"prompt": "p", "left": ["= a", "~b"], "right": ["#c", "{d}", "[html]e"]},
        {"pairs": {"= a": "#c", "~b": "{d}"}},
    ),
]


@pytest.mark.parametrize("original", HAND_WRITTEN, ids=lambda r: r["atom_type"])
def test_round_trip_hand_written(original):
    assert_round_trip(original)


def test_round_trip_of_a_whole_file_keeps_order_ids_and_tags():
    records = [item.record for item in parse_gift(SAMPLE) if item.record]
    records += [normalise_record(r) for r in HAND_WRITTEN]
    text, skipped = export_gift(records)
    assert skipped == []
    again = [item.record for item in parse_gift(text)]
    assert again == records


# Hypothesis: texts mixing GIFT's special characters, line breaks, markers and odd whitespace
# (all of which an export must escape or guard) around at least one letter or digit.
_BITS = [
    "~", "=", "#", "{", "}", ":", "::", "\\", "\\n", "\n", "\r\n", "\r", " ", "\t", "\xa0",
    "\x1c", "\u2028", "%", "%50%", "-", ">", "[html]", "[PLAIN]", "####", "//", "$CATEGORY:",
    "_____", "..", "T", "é", "\ufeff",
]  # fmt: skip
_free = st.lists(st.one_of(st.sampled_from(_BITS), st.text(max_size=3)), max_size=5).map("".join)
_word = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=6)
texts = st.builds(lambda a, b, c: a + b + c, _free, _word, _free)
plain = texts.filter(lambda t: "->" not in t)
ids = st.one_of(
    st.none(),
    st.just(""),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=20),
)
tags = st.lists(st.one_of(_word, texts), max_size=2)
numbers = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10**9), 10**9))


def _record(draw, atom_type, content, grading, options=()):
    return record(
        atom_type,
        content,
        grading,
        options,
        external_id=draw(ids),
        title=draw(texts),
        tags=draw(tags),
    )


def _maybe(draw, mapping: dict, key: str, strategy) -> None:
    if draw(st.booleans()):
        mapping[key] = draw(strategy)


@st.composite
def mcq_records(draw):
    count = draw(st.integers(2, 5))
    right = draw(st.integers(0, count - 1))
    indexes = draw(st.lists(st.integers(0, 99), min_size=count, max_size=count, unique=True))
    options = [
        option(index, draw(texts), i == right, draw(_free)) for i, index in enumerate(indexes)
    ]
    content = {"prompt": draw(texts)}
    _maybe(draw, content, "explanation", _free)
    _maybe(draw, content, "shuffle", st.just(True))
    return _record(draw, "mcq", content, {}, draw(st.permutations(options)))


@st.composite
def true_false_records(draw):
    content = {"statement": draw(texts)}
    _maybe(draw, content, "explanation", _free)
    grading = {"answer": draw(st.booleans())}
    _maybe(draw, grading, "feedback_wrong", _free)
    return _record(draw, "true_false", content, grading)


@st.composite
def short_text_records(draw):
    grading = {"accepted": draw(st.lists(plain, min_size=1, max_size=3))}
    _maybe(
        draw,
        grading,
        "wrong_answers",
        st.lists(
            st.fixed_dictionaries(
                {"text": plain, "feedback": _free.filter(lambda t: "->" not in t)}
            ),
            max_size=2,
        ),
    )
    _maybe(draw, grading, "ignore_punctuation", st.just(True))
    return _record(draw, "short_text", {"prompt": draw(texts)}, grading)


@st.composite
def numeric_records(draw):
    grading = {"answer": draw(numbers)}
    _maybe(draw, grading, "tolerance", st.floats(0, 1e6) | st.integers(0, 100))
    _maybe(
        draw,
        grading,
        "wrong_answers",
        st.lists(st.fixed_dictionaries({"value": numbers, "feedback": _free}), max_size=2),
    )
    return _record(draw, "numeric", {"prompt": draw(texts)}, grading)


@st.composite
def matching_records(draw):
    left = draw(st.lists(plain, min_size=2, max_size=4))
    right_pool = draw(st.lists(texts, min_size=1, max_size=4))
    pairs = {item: draw(st.sampled_from(right_pool)) for item in left}
    distractors = draw(st.lists(texts, max_size=2))
    right = draw(st.permutations(list(dict.fromkeys([*pairs.values(), *distractors]))))
    assume(len(right) >= 2)
    content = {"prompt": draw(texts), "left": left, "right": right}
    return _record(draw, "matching", content, {"pairs": pairs})


any_record = st.one_of(
    mcq_records(), true_false_records(), short_text_records(), numeric_records(), matching_records()
)

ROUND_TRIP_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


def _valid(original: dict) -> bool:
    try:
        normalise_record(original)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    "strategy",
    [
        mcq_records(),
        true_false_records(),
        short_text_records(),
        numeric_records(),
        matching_records(),
    ],
    ids=["mcq", "true_false", "short_text", "numeric", "matching"],
)
def test_round_trip_property(strategy):
    @ROUND_TRIP_SETTINGS
    @given(strategy)
    def check(original):
        assume(_valid(original))  # e.g. a wrong answer that normalises to an accepted one
        assert_round_trip(original)

    check()


@ROUND_TRIP_SETTINGS
@given(st.lists(any_record, min_size=1, max_size=6))
def test_round_trip_property_for_whole_files(originals):
    originals = [r for r in originals if _valid(r)]
    expected = [normalise_record(r) for r in originals]
    assume(len({r["external_id"] for r in expected}) == len(expected))
    text, skipped = export_gift(originals)
    assert skipped == []
    items = parse_gift(text)
    assert [item.error for item in items] == [None] * len(expected)
    assert [item.record for item in items] == expected


def assert_parses_without_raising(text: str) -> None:
    for item in parse_gift(text):
        assert (item.record is None) != (item.error is None)
        if item.record is None:
            assert not item.error.startswith("Could not read"), item.error  # no internal error
        else:
            assert_valid(item.record)
            assert normalise_record(item.record) == item.record


@ROUND_TRIP_SETTINGS
@given(st.text(max_size=300))
def test_parse_never_raises_and_records_are_always_valid(text):
    assert_parses_without_raising(text)


_NOISE = [*_BITS, "{", "}", "\n\n", "::", "=a", "~b", " -> ", "#1", "..2", ":0.5", "%-50%", "F"]


@ROUND_TRIP_SETTINGS
@given(st.lists(st.sampled_from(_NOISE), max_size=30))
def test_parse_never_raises_on_gift_like_noise(bits):
    assert_parses_without_raising("".join(bits))
