"""Browser journey 1: an MCQ goes from an author's draft, through review (changes requested,
fixed, approved) and publication, to a learner's API response, all through the admin UI.

Every step is clicked and typed in a real headless Chromium; only the curriculum and the
accounts are set up through the ORM. Each step saves docs/screenshots/journey1-NN-*.png.
"""

import json
import re

import pytest

from apps.accounts.roles import AUTHORS, PUBLISHERS, REVIEWERS
from apps.content.models import AtomStatus, LearningAtom, ReviewComment
from tests.accounts.factories import PASSWORD, UserFactory
from tests.curriculum.factories import ConceptFactory, CourseFactory, MisconceptionFactory

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Stopping distance in the wet"
FIRST_PROMPT = "How much longer are stopping distances when it is wet?"
FIXED_PROMPT = "In the wet, how much longer are stopping distances than on a dry road?"
CHANGE_REQUEST = "Say what we compare against: “than on a dry road”."
OPTIONS = (
    # (text, correct, feedback, linked misconception?)
    ("At least twice as long", True, "Tyres grip far less on a wet road.", False),
    ("About the same", False, "Water between tyre and road cuts the grip.", True),
    ("Ten times as long", False, "That is closer to icy roads.", False),
)
# An atom's admin page, with or without the list filters it was opened from.
CHANGE_PAGE = re.compile(r"/admin/content/learningatom/[0-9a-f-]+/change/(\?.*)?$")
LEARNER_SAFE_FORBIDDEN_KEYS = {"is_correct", "feedback", "misconception", "grading_logic"}


@pytest.fixture
def curriculum():
    """A published course with one concept and the misconception the distractor reveals."""
    course = CourseFactory(slug="driving-j1", title="Driving theory (journey 1)")
    concept = ConceptFactory(course=course, text="Stopping distances in bad weather")
    misconception = MisconceptionFactory(
        concept=concept,
        name="Thinks wet roads grip like dry ones",
        remediation="On a wet road, stopping distances at least double.",
    )
    return course, concept, misconception


@pytest.fixture
def people():
    def staff(role: str, email: str, name: str):
        return UserFactory(email=email, display_name=name, is_staff=True, roles=[role])

    return {
        "author": staff(AUTHORS, "ada.author@example.com", "Ada Author"),
        "reviewer": staff(REVIEWERS, "rex.reviewer@example.com", "Rex Reviewer"),
        "publisher": staff(PUBLISHERS, "pia.publisher@example.com", "Pia Publisher"),
        "learner": UserFactory(email="lee.learner@example.com", display_name="Lee Learner"),
    }


@pytest.fixture
def new_page(chromium):
    """new_page(**context_options) opens a page in its own browser context (own cookies), so
    each person keeps their own admin session; all are closed at the end."""
    contexts = []

    def open_page(**options):
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


# --- what a person sees and does on an atom's admin page -----------------------------------------


def shown_messages(page) -> list[str]:
    return [text.strip() for text in page.locator("ul.messagelist li").all_inner_texts()]


def status_label(page) -> str:
    return page.locator(".form-row.field-status .readonly").inner_text().strip()


def pick_autocomplete(page, select_id: str, search: str, choice: str) -> None:
    """Choose ``choice`` in an admin autocomplete (select2) box by typing ``search``."""
    page.locator(f"#{select_id} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(search)
    page.get_by_role("option", name=choice, exact=True).click()
    assert choice in page.locator(f"#select2-{select_id}-container").inner_text()


def json_form_textarea(page, field: str, label: str):
    """The textarea django-jsonform draws for ``label`` inside the JSON field ``field``."""
    row = page.locator(f"#id_{field}_jsonform .rjf-form-row").filter(
        has=page.locator("label", has_text=re.compile(rf"^\s*{label}\s*$"))
    )
    return row.locator("textarea").first


def take_transition(page, button: str, comment: str = "") -> None:
    """Press a workflow button on the atom page; it opens that transition's own page, where a
    comment can be written before confirming (``confirm_transition``)."""
    page.get_by_role("link", name=button, exact=True).click()
    page.wait_for_url("**/workflow/**")
    if comment:
        page.locator("#id_comment").fill(comment)


def confirm_transition(page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url(CHANGE_PAGE)


def click_and_wait(page, control) -> None:
    """Click a control that posts a form, and wait for the page it leads to (often the same
    URL, so waiting for the URL alone would return before the response arrives)."""
    with page.expect_navigation():
        control.click()


def save_and_continue(page) -> None:
    """Save the atom form and wait for the change page it comes back to (the URL may already
    be that page's, so wait for the navigation itself)."""
    button = page.get_by_role("button", name="Save and continue editing")
    assert button.evaluate("b => b.form && b.form.id") == "learningatom_form", (
        "the Save button is outside the atom's change form"
    )
    with page.expect_navigation(url=CHANGE_PAGE):
        button.click()


def open_atom(page, live_server, atom_title: str) -> None:
    """Find the atom in the list by searching for it, as an editor would, and open it."""
    page.goto(f"{live_server.url}/admin/content/learningatom/")
    page.locator("#searchbar").fill(atom_title)
    click_and_wait(page, page.locator("#changelist-search").get_by_role("button", name="Search"))
    page.locator("#result_list").get_by_role("link", name=atom_title, exact=True).click()
    page.wait_for_url(CHANGE_PAGE)


# --- the journey ---------------------------------------------------------------------------------


def test_an_mcq_goes_from_draft_through_review_to_a_learner(
    live_server, admin_login, new_page, screenshot, curriculum, people
):
    course, concept, misconception = curriculum
    author_page, reviewer_page, publisher_page = new_page(), new_page(), new_page()

    # 1. The author adds an MCQ: the type chooser, the schema-driven form, options and concept.
    admin_login(author_page, people["author"])
    author_page.goto(f"{live_server.url}/admin/content/learningatom/")
    author_page.get_by_role("link", name=re.compile(r"^Add learning atom")).click()
    author_page.get_by_role("link", name="Multiple choice", exact=True).click()
    author_page.wait_for_url(re.compile(r"/add/\?atom_type=mcq$"))
    author_page.locator("#id_title").fill(TITLE)
    json_form_textarea(author_page, "content", "Prompt").fill(FIRST_PROMPT)

    options_group = author_page.locator("#options-group")
    for i, (text, correct, feedback, linked) in enumerate(OPTIONS):
        options_group.get_by_role("button", name=re.compile(r"^Add another")).click()
        author_page.locator(f"#id_options-{i}-option_index").fill(str(i))
        author_page.locator(f"#id_options-{i}-text").fill(text)
        author_page.locator(f"#id_options-{i}-feedback").fill(feedback)
        if correct:
            author_page.locator(f"#id_options-{i}-is_correct").check()
        if linked:
            pick_autocomplete(
                author_page, f"id_options-{i}-misconception", "wet roads", misconception.name
            )
    author_page.locator("#concept_weights-group").get_by_role(
        "button", name=re.compile(r"^Add another")
    ).click()
    pick_autocomplete(author_page, "id_concept_weights-0-concept", "Stopping", concept.text)
    save_and_continue(author_page)

    shown = shown_messages(author_page)
    assert any("was added successfully" in m for m in shown), shown
    # The unlinked distractor is flagged, so the author knows it gives no remediation.
    assert any("1 wrong option(s) have no misconception linked" in m for m in shown), shown
    assert status_label(author_page) == "Draft"
    assert author_page.locator(".distractor-warning").count() == 1
    screenshot(author_page, "journey1-01-author-creates-mcq")

    atom = LearningAtom.objects.get(title=TITLE)
    assert atom.created_by == people["author"]
    assert atom.content["prompt"] == FIRST_PROMPT
    assert atom.options.get(text="About the same").misconception == misconception

    take_transition(author_page, "Submit for review")
    confirm_transition(author_page, "Submit for review")
    assert shown_messages(author_page) == [f"Submit for review: “{TITLE}” is now in_review."]
    assert status_label(author_page) == "In review"
    screenshot(author_page, "journey1-02-author-submits-for-review")

    # 2. The reviewer finds it in "awaiting my review" and requests changes, with a comment.
    admin_login(reviewer_page, people["reviewer"])
    reviewer_page.goto(f"{live_server.url}/admin/content/learningatom/?queue=awaiting_my_review")
    reviewer_page.locator("#result_list").get_by_role("link", name=TITLE, exact=True).click()
    reviewer_page.wait_for_url(CHANGE_PAGE)
    assert status_label(reviewer_page) == "In review"
    assert reviewer_page.get_by_role("link", name="Approve", exact=True).is_visible()
    take_transition(reviewer_page, "Request changes", comment=CHANGE_REQUEST)
    screenshot(reviewer_page, "journey1-03-reviewer-requests-changes")
    confirm_transition(reviewer_page, "Request changes")
    assert shown_messages(reviewer_page) == [f"Request changes: “{TITLE}” is now draft."]
    assert status_label(reviewer_page) == "Draft"
    screenshot(reviewer_page, "journey1-04-review-requested-changes")

    # 3. The author reads the request in "changes requested", fixes the prompt and resubmits.
    author_page.goto(f"{live_server.url}/admin/content/learningatom/?queue=changes_requested")
    author_page.locator("#result_list").get_by_role("link", name=TITLE, exact=True).click()
    author_page.wait_for_url(CHANGE_PAGE)
    author_page.get_by_role("link", name="Comments", exact=True).click()
    request_box = author_page.locator(".review-comment").filter(has_text=CHANGE_REQUEST)
    assert "changes requested" in request_box.inner_text()
    assert people["reviewer"].email in request_box.inner_text()
    screenshot(author_page, "journey1-05-author-reads-change-request")
    click_and_wait(author_page, request_box.get_by_role("button", name="Resolve"))
    assert shown_messages(author_page) == ["Comment resolved."]

    open_atom(author_page, live_server, TITLE)
    lock_box = author_page.locator("#edit-lock")
    click_and_wait(author_page, lock_box.get_by_role("button", name="Lock for editing"))
    shown = shown_messages(author_page)
    assert any(m.startswith("You hold the edit lock until") for m in shown), shown
    assert f"Locked for editing by {people['author'].email}" in lock_box.inner_text()
    prompt = json_form_textarea(author_page, "content", "Prompt")
    assert prompt.input_value() == FIRST_PROMPT
    prompt.fill(FIXED_PROMPT)
    save_and_continue(author_page)
    assert any("was changed successfully" in m for m in shown_messages(author_page))
    assert json_form_textarea(author_page, "content", "Prompt").input_value() == FIXED_PROMPT
    click_and_wait(author_page, lock_box.get_by_role("button", name="Release lock"))
    assert shown_messages(author_page) == ["Lock released."]
    take_transition(author_page, "Submit for review", comment="Prompt now names the dry road.")
    confirm_transition(author_page, "Submit for review")
    assert status_label(author_page) == "In review"
    screenshot(author_page, "journey1-06-author-fixes-and-resubmits")

    # 4. The reviewer sees the fixed prompt and approves.
    open_atom(reviewer_page, live_server, TITLE)
    assert FIXED_PROMPT in reviewer_page.locator(".form-row.field-content").inner_text()
    take_transition(reviewer_page, "Approve", comment="Clear now.")
    confirm_transition(reviewer_page, "Approve")
    assert shown_messages(reviewer_page) == [f"Approve: “{TITLE}” is now approved."]
    assert status_label(reviewer_page) == "Approved"
    screenshot(reviewer_page, "journey1-07-reviewer-approves")

    # 5. The publisher publishes: the atom goes live at its latest revision.
    admin_login(publisher_page, people["publisher"])
    open_atom(publisher_page, live_server, TITLE)
    assert status_label(publisher_page) == "Approved"
    take_transition(publisher_page, "Publish")
    assert (
        "Learners will see the latest revision." in publisher_page.locator("#content").inner_text()
    )
    confirm_transition(publisher_page, "Publish")
    assert shown_messages(publisher_page) == [f"Publish: “{TITLE}” is now published."]
    assert status_label(publisher_page) == "Published"
    atom.refresh_from_db()
    live_number = atom.published_revision.number
    assert (
        f"Live: revision {live_number}"
        in publisher_page.locator(".form-row.field-workflow_summary").inner_text()
    )
    screenshot(publisher_page, "journey1-08-publisher-publishes")

    # The database: published at the fixed revision, the misconception link kept.
    assert atom.status == AtomStatus.PUBLISHED
    assert live_number == atom.revisions.order_by("-number").first().number
    assert atom.published_revision.snapshot["content"]["prompt"] == FIXED_PROMPT
    linked = atom.options.get(text="About the same")
    assert linked.misconception == misconception
    live_options = {o["text"]: o for o in atom.published_revision.snapshot["options"]}
    assert live_options["About the same"]["misconception"] == str(misconception.pk)
    assert live_options["Ten times as long"]["misconception"] is None
    assert set(atom.live_concepts.all()) == {concept}
    request = ReviewComment.objects.get(atom=atom, is_change_request=True)
    assert (request.author, request.body) == (people["reviewer"], CHANGE_REQUEST)
    assert request.resolved_by == people["author"]

    # 6. A learner gets it from the API through the live server, with no answers in it.
    api = new_page().context.request
    token = api.post(
        f"{live_server.url}/api/v1/auth/token/",
        data={"email": people["learner"].email, "password": PASSWORD},
    )
    assert token.status == 200, token.text()
    bearer = {"Authorization": f"Bearer {token.json()['access']}"}

    listing = api.get(f"{live_server.url}/api/v1/atoms/?course={course.pk}", headers=bearer)
    assert listing.status == 200, listing.text()
    atoms = listing.json()["results"]
    assert [a["id"] for a in atoms] == [str(atom.pk)]
    learner_atom = atoms[0]
    assert learner_atom["atom_type"] == "mcq"
    assert learner_atom["prompt"] == FIXED_PROMPT
    assert learner_atom["revision"] == live_number
    assert [o["text"] for o in learner_atom["options"]] == [text for text, *_ in OPTIONS]
    assert_learner_safe(listing.text())

    upcoming = api.get(
        f"{live_server.url}/api/v1/scheduler/next/?course={course.pk}&limit=5", headers=bearer
    )
    assert upcoming.status == 200, upcoming.text()
    assert [item["atom"]["id"] for item in upcoming.json()["items"]] == [str(atom.pk)]
    assert_learner_safe(upcoming.text())

    # What the learner's client receives, in DRF's browsable API, for the tour.
    learner_page = new_page(extra_http_headers=bearer)
    learner_page.goto(f"{live_server.url}/api/v1/atoms/?course={course.pk}")
    assert FIXED_PROMPT in learner_page.locator(".response-info").inner_text()
    screenshot(learner_page, "journey1-09-learner-gets-atom-from-api")


def assert_learner_safe(body: str) -> None:
    """No answer anywhere in the payload: not as a key, not in the raw text."""
    assert "is_correct" not in body

    def keys(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from keys(value)
        elif isinstance(node, list):
            for value in node:
                yield from keys(value)

    leaked = LEARNER_SAFE_FORBIDDEN_KEYS & set(keys(json.loads(body)))
    assert not leaked, f"answers exposed to learners: {leaked}"
