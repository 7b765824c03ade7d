"""Field-aware snapshot diffs: exact summaries per kind of change, and properties."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.content.revision_diff import Change, diff_summary, normalize_snapshot, snapshot_diff

CONCEPT_A = "0b9c1f6e-6d55-4a57-9d4e-2c1f5f0a1a01"
CONCEPT_B = "7d3e2a10-2f4b-4c1e-8a0e-9b6f3c2d4e02"
MISCONCEPTION_1 = "5f0e4a3b-1c2d-4e5f-8a9b-0c1d2e3f4a51"
MISCONCEPTION_2 = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c62"


def _snapshot() -> dict:
    return {
        "title": "Photosynthesis basics",
        "atom_type": "mcq",
        "content": {
            "prompt": "Which gas do plants absorb?",
            "blocks": [
                {"type": "text", "text": "Plants make food."},
                {"type": "image", "alt": "A leaf"},
            ],
            "hints": ["Think about breathing", "It is not oxygen"],
        },
        "grading_logic": {"correct_index": 1, "correct_order": [0, 1, 2], "tolerance": 0.5},
        "options": [
            {
                "index": 0,
                "text": "Oxygen",
                "is_correct": False,
                "feedback": "Plants release it.",
                "misconception": MISCONCEPTION_1,
            },
            {
                "index": 1,
                "text": "Carbon dioxide",
                "is_correct": True,
                "feedback": "",
                "misconception": None,
            },
            {
                "index": 2,
                "text": "Nitrogen",
                "is_correct": False,
                "feedback": "",
                "misconception": None,
            },
        ],
        "concepts": [{"concept": CONCEPT_A, "weight": 1.0}],
        "tags": ["biology", "plants"],
        "metadata": {
            "engagement_mode": "active",
            "knowledge_dimension": "factual",
            "element_interactivity": 0.3,
            "difficulty": 2,
            "irt_a": 1.0,
            "irt_b": 0.0,
            "irt_c": 0.25,
            "estimated_time_s": 30,
            "schema_version": 1,
        },
    }


def _option(snapshot: dict, index: int) -> dict:
    return next(o for o in snapshot["options"] if o["index"] == index)


def _summaries(old: dict, new: dict) -> list[str]:
    return [c.summary for c in snapshot_diff(old, new)]


# --- Identity and empties --------------------------------------------------------------------


def test_identical_snapshots_have_no_changes():
    assert snapshot_diff(_snapshot(), _snapshot()) == []


def test_empty_and_missing_snapshots_have_no_changes():
    assert snapshot_diff({}, {}) == []
    assert snapshot_diff(None, {}) == []
    empty = {
        "title": "",
        "atom_type": "",
        "content": {},
        "grading_logic": {},
        "options": [],
        "concepts": [],
        "tags": [],
        "metadata": {},
    }
    assert snapshot_diff({}, empty) == []
    assert snapshot_diff({"content": None, "tags": None}, {}) == []


def test_missing_top_level_key_counts_as_empty():
    new = {"content": {"prompt": "Hi"}, "tags": ["x"]}
    changes = snapshot_diff({}, new)
    assert changes == [
        Change("content.prompt", "added", None, "Hi", "content.prompt added: 'Hi'"),
        Change("tags", "added", None, "x", "tag 'x' added"),
    ]


def test_normalize_snapshot_fills_defaults():
    normal = normalize_snapshot({"options": [{"index": 0}]})
    assert normal == {
        "title": "",
        "atom_type": "",
        "content": {},
        "grading_logic": {},
        "options": [
            {"index": 0, "text": "", "is_correct": False, "feedback": "", "misconception": None}
        ],
        "concepts": [],
        "tags": [],
        "metadata": {},
    }


# --- Top-level scalars -----------------------------------------------------------------------


def test_title_change():
    new = _snapshot() | {"title": "Photosynthesis"}
    assert snapshot_diff(_snapshot(), new) == [
        Change(
            "title",
            "changed",
            "Photosynthesis basics",
            "Photosynthesis",
            "title: 'Photosynthesis basics' → 'Photosynthesis'",
        )
    ]


def test_long_title_change_is_summarised():
    new = _snapshot() | {"title": "x" * 61}
    assert _summaries(_snapshot(), new) == ["title changed"]


def test_atom_type_change_is_reported_first():
    new = _snapshot() | {"title": "Gases", "atom_type": "multi_select", "tags": ["biology"]}
    assert _summaries(_snapshot(), new) == [
        "atom_type: 'mcq' → 'multi_select'",
        "title: 'Photosynthesis basics' → 'Gases'",
        "tag 'plants' removed",
    ]


# --- content and grading_logic ---------------------------------------------------------------


def test_scalar_in_grading_logic():
    new = _snapshot()
    new["grading_logic"]["correct_index"] = 2
    assert snapshot_diff(_snapshot(), new) == [
        Change("grading_logic.correct_index", "changed", 1, 2, "grading_logic.correct_index 1 → 2")
    ]


def test_short_string_in_content_is_quoted():
    new = _snapshot()
    new["content"]["prompt"] = "Which gas?"
    assert _summaries(_snapshot(), new) == [
        "content.prompt 'Which gas do plants absorb?' → 'Which gas?'"
    ]


def test_long_string_in_content_is_summarised():
    new = _snapshot()
    new["content"]["prompt"] = "Which of the following gases do green plants absorb from the air?"
    changes = snapshot_diff(_snapshot(), new)
    assert [c.summary for c in changes] == ["content.prompt changed"]
    assert changes[0].old == "Which gas do plants absorb?"
    assert changes[0].new.startswith("Which of the following")


def test_sixty_characters_still_inline():
    old = {"content": {"prompt": "a" * 60}}
    new = {"content": {"prompt": "b" * 60}}
    assert _summaries(old, new) == [f"content.prompt {'a' * 60!r} → {'b' * 60!r}"]


def test_reordered_scalar_list_is_one_change():
    new = _snapshot()
    new["grading_logic"]["correct_order"] = [1, 0, 2]
    assert snapshot_diff(_snapshot(), new) == [
        Change(
            "grading_logic.correct_order",
            "changed",
            [0, 1, 2],
            [1, 0, 2],
            "grading_logic.correct_order [0, 1, 2] → [1, 0, 2]",
        )
    ]


def test_list_of_dicts_recurses_per_index():
    new = _snapshot()
    new["content"]["blocks"][1]["alt"] = "A green leaf"
    new["content"]["blocks"][1]["caption"] = "Fig. 1"
    assert snapshot_diff(_snapshot(), new) == [
        Change(
            "content.blocks[1].alt",
            "changed",
            "A leaf",
            "A green leaf",
            "content.blocks[1].alt 'A leaf' → 'A green leaf'",
        ),
        Change(
            "content.blocks[1].caption",
            "added",
            None,
            "Fig. 1",
            "content.blocks[1].caption added: 'Fig. 1'",
        ),
    ]


def test_list_of_strings_of_equal_length_reports_per_index():
    new = _snapshot()
    new["content"]["hints"] = ["Think about breathing out", "It is not oxygen"]
    assert snapshot_diff(_snapshot(), new) == [
        Change(
            "content.hints[0]",
            "changed",
            "Think about breathing",
            "Think about breathing out",
            "content.hints[0] 'Think about breathing' → 'Think about breathing out'",
        )
    ]


def test_appended_block_is_an_addition():
    new = _snapshot()
    block = {"type": "text", "text": "Extra"}
    new["content"]["blocks"].append(block)
    assert snapshot_diff(_snapshot(), new) == [
        Change(
            "content.blocks[2]",
            "added",
            None,
            block,
            "content.blocks[2] added: {'type': 'text', 'text': 'Extra'}",
        )
    ]


def test_removed_first_hint_is_a_removal_not_a_shift():
    new = _snapshot()
    del new["content"]["hints"][0]
    assert snapshot_diff(_snapshot(), new) == [
        Change(
            "content.hints[0]",
            "removed",
            "Think about breathing",
            None,
            "content.hints[0] removed: 'Think about breathing'",
        )
    ]


def test_inserted_and_replaced_elements_in_lists_of_different_length():
    old = {"grading_logic": {"accepted": ["a", "b", "c"]}}
    new = {"grading_logic": {"accepted": ["z", "a", "B", "c", "d"]}}
    assert _summaries(old, new) == [
        "grading_logic.accepted[0] added: 'z'",
        "grading_logic.accepted[2] 'b' → 'B'",
        "grading_logic.accepted[4] added: 'd'",
    ]


def test_key_removed_from_content_and_long_values():
    old = {"content": {"hint": "Short", "data": {"rows": list(range(30))}}}
    new = {"content": {}}
    assert _summaries(old, new) == ["content.hint removed: 'Short'", "content.data removed"]


def test_nested_content_paths():
    old = {"content": {"stem": {"parts": [{"items": ["x", "y"], "meta": {"n": 1}}]}}}
    new = {"content": {"stem": {"parts": [{"items": ["x", "w"], "meta": {"n": 2}}]}}}
    changes = snapshot_diff(old, new)
    assert [c.path for c in changes] == [
        "content.stem.parts[0].items[1]",
        "content.stem.parts[0].meta.n",
    ]
    assert diff_summary(changes) == (
        "content.stem.parts[0].items[1] 'y' → 'w'; content.stem.parts[0].meta.n 1 → 2"
    )


def test_type_change_is_one_change():
    old = {"grading_logic": {"answer": 3}}
    new = {"grading_logic": {"answer": [3, 4]}}
    assert _summaries(old, new) == ["grading_logic.answer 3 → [3, 4]"]
    new = {
        "grading_logic": {"answer": {"min": 1, "max": 100, "unit": "metres per second per second"}}
    }
    assert _summaries(old, new) == ["grading_logic.answer changed"]


def test_whole_content_replaced_by_empty():
    new = _snapshot() | {"content": {}}
    assert _summaries(_snapshot(), new) == [
        "content.prompt removed: 'Which gas do plants absorb?'",
        "content.blocks removed",
        "content.hints removed: ['Think about breathing', 'It is not oxygen']",
    ]


# --- Options ---------------------------------------------------------------------------------


def test_option_text_changed():
    new = _snapshot()
    _option(new, 2)["text"] = "Helium"
    assert snapshot_diff(_snapshot(), new) == [
        Change("options[2].text", "changed", "Nitrogen", "Helium", "option 2 text changed")
    ]


def test_option_is_correct_and_feedback():
    new = _snapshot()
    _option(new, 0)["is_correct"] = True
    _option(new, 0)["feedback"] = "Yes"
    assert _summaries(_snapshot(), new) == [
        "option 0 is_correct False → True",
        "option 0 feedback changed",
    ]


def test_options_are_matched_by_index_not_position():
    new = _snapshot()
    new["options"].reverse()
    assert snapshot_diff(_snapshot(), new) == []


def test_option_added_and_removed():
    new = _snapshot()
    removed = new["options"].pop(1)
    added = {
        "index": 3,
        "text": "Hydrogen",
        "is_correct": False,
        "feedback": "",
        "misconception": None,
    }
    new["options"].append(added)
    assert snapshot_diff(_snapshot(), new) == [
        Change("options[1]", "removed", removed, None, "option 1 removed"),
        Change("options[3]", "added", None, added, "option 3 added"),
    ]


def test_option_misconception_linked_unlinked_changed():
    new = _snapshot()
    _option(new, 0)["misconception"] = None
    _option(new, 2)["misconception"] = MISCONCEPTION_2
    assert snapshot_diff(_snapshot(), new) == [
        Change(
            "options[0].misconception",
            "removed",
            MISCONCEPTION_1,
            None,
            "option 0 misconception unlinked",
        ),
        Change(
            "options[2].misconception",
            "added",
            None,
            MISCONCEPTION_2,
            "option 2 misconception linked",
        ),
    ]
    newer = copy.deepcopy(new)
    _option(newer, 2)["misconception"] = MISCONCEPTION_1
    assert _summaries(new, newer) == ["option 2 misconception changed"]


def test_option_missing_fields_count_as_defaults():
    old = {"options": [{"index": 0, "text": "A"}]}
    new = {"options": [{"index": 0, "text": "A", "is_correct": False, "feedback": ""}]}
    assert snapshot_diff(old, new) == []
    new["options"][0]["is_correct"] = True
    assert _summaries(old, new) == ["option 0 is_correct False → True"]


def test_option_extra_field():
    old = {"options": [{"index": 0, "text": "A"}]}
    new = {"options": [{"index": 0, "text": "A", "image": "a.png"}]}
    assert _summaries(old, new) == ["option 0 image added: 'a.png'"]


def test_options_without_unique_indices_fall_back_to_positions():
    old = {"options": [{"index": 0, "text": "A"}, {"index": 0, "text": "B"}]}
    new = {"options": [{"index": 0, "text": "A"}, {"index": 0, "text": "C"}]}
    assert _summaries(old, new) == ["options[1].text 'B' → 'C'"]


# --- Concepts and tags -----------------------------------------------------------------------


def test_concept_weight_changed():
    new = _snapshot()
    new["concepts"][0]["weight"] = 0.5
    assert snapshot_diff(_snapshot(), new) == [
        Change(
            f"concepts[{CONCEPT_A}].weight",
            "changed",
            1.0,
            0.5,
            f"concept {CONCEPT_A} weight 1.0 → 0.5",
        )
    ]


def test_concept_added_and_removed():
    new = _snapshot()
    link = {"concept": CONCEPT_B, "weight": 0.4}
    new["concepts"] = [link]
    assert snapshot_diff(_snapshot(), new) == [
        Change(
            f"concepts[{CONCEPT_A}]",
            "removed",
            {"concept": CONCEPT_A, "weight": 1.0},
            None,
            f"concept {CONCEPT_A} removed",
        ),
        Change(f"concepts[{CONCEPT_B}]", "added", None, link, f"concept {CONCEPT_B} added"),
    ]


def test_concepts_are_matched_by_id_not_position():
    old = {
        "concepts": [{"concept": CONCEPT_A, "weight": 1.0}, {"concept": CONCEPT_B, "weight": 0.2}]
    }
    new = {"concepts": list(reversed(old["concepts"]))}
    assert snapshot_diff(old, new) == []


def test_tags_are_set_differences():
    new = _snapshot() | {"tags": ["plants", "gases", "botany"]}
    assert snapshot_diff(_snapshot(), new) == [
        Change("tags", "added", None, "botany", "tag 'botany' added"),
        Change("tags", "added", None, "gases", "tag 'gases' added"),
        Change("tags", "removed", "biology", None, "tag 'biology' removed"),
    ]
    assert snapshot_diff(_snapshot(), _snapshot() | {"tags": ["plants", "biology"]}) == []


# --- Metadata --------------------------------------------------------------------------------


def test_metadata_per_key():
    new = _snapshot()
    new["metadata"] |= {"difficulty": 3, "irt_b": -0.5, "engagement_mode": "constructive"}
    del new["metadata"]["schema_version"]
    assert _summaries(_snapshot(), new) == [
        "metadata.engagement_mode 'active' → 'constructive'",
        "metadata.difficulty 2 → 3",
        "metadata.irt_b 0.0 → -0.5",
        "metadata.schema_version removed: 1",
    ]


def test_unknown_top_level_keys_are_diffed_last():
    old = _snapshot() | {"zeta": 1, "alpha": "a"}
    new = _snapshot() | {"zeta": 2, "title": "T"}
    assert _summaries(old, new) == [
        "title: 'Photosynthesis basics' → 'T'",
        "alpha removed: 'a'",
        "zeta 1 → 2",
    ]


# --- Ordering and the summary line -----------------------------------------------------------


def test_full_change_order_and_diff_summary():
    new = _snapshot()
    new["atom_type"] = "multi_select"
    new["content"]["prompt"] = "Which gases?"
    new["grading_logic"]["correct_order"] = [2, 1, 0]
    _option(new, 0)["is_correct"] = True
    new["concepts"][0]["weight"] = 0.5
    new["tags"].append("gas")
    new["metadata"]["difficulty"] = 3
    assert diff_summary(snapshot_diff(_snapshot(), new)) == "; ".join(
        [
            "atom_type: 'mcq' → 'multi_select'",
            "content.prompt 'Which gas do plants absorb?' → 'Which gases?'",
            "grading_logic.correct_order [0, 1, 2] → [2, 1, 0]",
            "option 0 is_correct False → True",
            f"concept {CONCEPT_A} weight 1.0 → 0.5",
            "tag 'gas' added",
            "metadata.difficulty 2 → 3",
        ]
    )


def test_diff_summary_of_nothing_is_empty():
    assert diff_summary([]) == ""


def test_nan_equals_itself():
    old = {"metadata": {"irt_b": float("nan")}}
    assert snapshot_diff(old, {"metadata": {"irt_b": float("nan")}}) == []


def test_change_is_frozen():
    change = Change("title", "changed", "a", "b", "title: 'a' → 'b'")
    with pytest.raises(AttributeError):
        change.path = "x"  # type: ignore[misc]


# --- Properties ------------------------------------------------------------------------------

_TEXT = st.text(alphabet="abc", max_size=3)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-2, max_value=2)
    | st.floats(allow_nan=False, allow_infinity=False, width=16)
    | _TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=8,
)
_OPTION = st.fixed_dictionaries(
    {"index": st.integers(min_value=0, max_value=3)},
    optional={
        "text": _TEXT,
        "is_correct": st.booleans(),
        "feedback": _TEXT,
        "misconception": st.none() | st.sampled_from([MISCONCEPTION_1, MISCONCEPTION_2]),
    },
)
_CONCEPT = st.fixed_dictionaries(
    {
        "concept": st.sampled_from([CONCEPT_A, CONCEPT_B, "c3"]),
        "weight": st.sampled_from([0.25, 0.5, 1.0]),
    }
)
_SNAPSHOT = st.fixed_dictionaries(
    {},
    optional={
        "title": _TEXT,
        "atom_type": st.sampled_from(["mcq", "ordering"]),
        "content": st.dictionaries(_TEXT, _JSON, max_size=3),
        "grading_logic": st.dictionaries(_TEXT, _JSON, max_size=2),
        "options": st.lists(_OPTION, max_size=3, unique_by=lambda o: o["index"]),
        "concepts": st.lists(_CONCEPT, max_size=2, unique_by=lambda c: c["concept"]),
        "tags": st.lists(_TEXT, max_size=3),
        "metadata": st.dictionaries(
            st.sampled_from(["difficulty", "irt_a", "schema_version"]),
            st.integers(min_value=0, max_value=2),
            max_size=2,
        ),
        "extra": _JSON,
    },
)


def _canonical(snapshot: dict) -> dict:
    """Normalised missing keys, plus the orderings the diff deliberately ignores."""
    normal = normalize_snapshot(snapshot)
    normal["options"] = sorted(normal["options"], key=lambda o: o["index"])
    normal["concepts"] = sorted(normal["concepts"], key=lambda c: c["concept"])
    normal["tags"] = sorted(set(normal["tags"]))
    return normal


@settings(max_examples=300, deadline=None)
@given(_SNAPSHOT)
def test_snapshot_equals_itself(snapshot):
    assert snapshot_diff(snapshot, snapshot) == []
    assert snapshot_diff(snapshot, copy.deepcopy(snapshot)) == []


@settings(max_examples=500, deadline=None)
@given(_SNAPSHOT, _SNAPSHOT)
def test_diff_is_empty_iff_snapshots_are_equal(a, b):
    changes = snapshot_diff(a, b)
    assert (changes == []) == (_canonical(a) == _canonical(b))
    for change in changes:
        assert change.kind in ("added", "removed", "changed")
        assert change.summary


@settings(max_examples=300, deadline=None)
@given(_SNAPSHOT, st.data())
def test_one_edit_is_detected(a, data):
    b = copy.deepcopy(a)
    key = data.draw(st.sampled_from(["title", "content", "grading_logic", "metadata"]))
    if key == "title":
        b["title"] = a.get("title", "") + "!"
    elif key == "metadata":
        b["metadata"] = dict(a.get("metadata", {})) | {"difficulty": 99}
    else:
        b[key] = dict(a.get(key, {})) | {"new-key": data.draw(_JSON)}
    changes = snapshot_diff(a, b)
    assert changes
    assert all(c.path.startswith(key) for c in changes)
