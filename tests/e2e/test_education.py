"""Issue 13 in a real browser: an editor writes an article, a clinician reviews and publishes
it, and a patient on day 2 sees it under "For you now" on their phone; the public page and
the Atom feed validate; and axe-core finds nothing serious on the new pages."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import feedparser
import pytest
from playwright.sync_api import Page, expect

from needlecare.accounts.models import Role
from needlecare.education import consent
from needlecare.education.models import Subscriber
from tests.e2e import test_content_security_policy as csp
from tests.e2e.support import (
    horizontal_overflow,
    screenshot,
    serious_violations,
    sign_in,
    signed_session_days_ago,
    verify_on_phone,
)
from tests.factories import journey_to_signed_session, make_user
from tests.web.education.support import published_article

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Your skin on day 2"


def accessible(page: Page, what: str) -> None:
    assert serious_violations(page) == [], what


def sign_out(page: Page) -> None:
    page.get_by_role("button", name=re.compile("Sign out", re.I)).click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_editor_writes_clinician_publishes_patient_on_day_2_reads(
        desk: Page, phone: Page, live_server: Any) -> None:
    journey = signed_session_days_ago(2)
    clinic = journey["clinician"].clinic
    make_user(clinic, Role.OWNER, username="owner.editor", first_name="Priya",
              last_name="Natarajan", email="priya@example.test")

    # The editor (an owner) writes the article and sends it for review.
    sign_in(desk, "owner.editor")
    desk.get_by_role("link", name="Articles").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Articles")
    accessible(desk, "articles list")
    desk.get_by_role("link", name="Write an article").click()
    accessible(desk, "article form")
    desk.get_by_label("Title").fill(TITLE)
    desk.get_by_label("Summary").fill("Redness like mild sunburn is normal and fades.")
    desk.get_by_label("Text").fill("## Day 2\n\nRedness like mild sunburn is normal. "
                                   "<script>alert('x')</script>\n\n- Use sunscreen.")
    desk.get_by_label("Sources").fill("minutilli2024\nchu2021")
    desk.get_by_label("Stage of care").select_option(label="Days 0–7 after a session")
    desk.get_by_role("button", name="Save draft").click()
    expect(desk.get_by_text("Draft saved.")).to_be_visible()
    accessible(desk, "article page, draft")
    desk.get_by_role("button", name="Send for clinical review").click()
    expect(desk.get_by_text("Sent for clinical review.")).to_be_visible()
    screenshot(desk, "education-01-sent-for-review")
    sign_out(desk)

    # The clinician reviews it and publishes it.
    sign_in(desk, journey["clinician"].username)
    desk.get_by_role("link", name="Articles").click()
    expect(desk.get_by_role("heading", name="Waiting for your review")).to_be_visible()
    desk.get_by_role("link", name=TITLE).first.click()
    accessible(desk, "article page, in review")
    desk.get_by_role("button", name="Approve and publish").click()
    expect(desk.get_by_text("Approved and published.")).to_be_visible()
    screenshot(desk, "education-02-published")

    # The patient, two days after their session, sees it on the phone.
    verify_on_phone(phone, journey["url"], journey["patient"].date_of_birth)
    section = phone.locator("#reading")
    expect(section.get_by_role("heading", name="For you now")).to_be_visible()
    expect(section.get_by_role("link", name=TITLE)).to_be_visible()
    section.scroll_into_view_if_needed()
    screenshot(phone, "education-03-phone-for-you-now")
    accessible(phone, "phone home with reading and newsletter sections")
    assert horizontal_overflow(phone) == 0
    section.get_by_role("link", name=TITLE).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(phone.get_by_text(re.compile(r"Reviewed by Alex Tester\d+"))).to_be_visible()
    # The script typed into the Markdown is shown as text, never run as markup.
    assert phone.locator("article script").count() == 0
    accessible(phone, "public article at 360 px")
    assert horizontal_overflow(phone) == 0


def test_public_page_and_feed_validate_and_newsletter_pages_are_accessible(
        desk: Page, phone: Page, live_server: Any) -> None:
    journey = signed_session_days_ago(2)
    clinic = journey["clinician"].clinic
    owner = make_user(clinic, Role.OWNER, username="owner.news", email="owner@example.test")

    # published_article needs only the editor and the reviewer of the world it is given.
    article = published_article(SimpleNamespace(owner=owner, clinician=journey["clinician"]),
                                title=TITLE)

    # The public page: metadata, no JavaScript needed, accessible.
    phone.goto(f"/resources/{clinic.slug}/")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Articles and tips")
    assert phone.locator("link[rel=canonical]").get_attribute("href", timeout=1000)
    assert phone.locator("meta[name=description]").get_attribute("content")
    assert phone.locator("script").count() == 0
    accessible(phone, "public page")
    screenshot(phone, "education-04-public-page")

    # The feed parses without error and has Atom's required elements.
    feed_response = phone.request.get(f"/resources/{clinic.slug}/feed.atom")
    feed = feedparser.parse(feed_response.body())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.feed.id
    assert feed.feed.title
    assert feed.feed.updated
    [entry] = feed.entries
    assert entry.id
    assert entry.title == TITLE
    assert entry.updated
    assert entry.link.endswith(f"/resources/{clinic.slug}/{article.slug}/")

    # Subscribing from the public page, with JavaScript off.
    context = phone.context.browser.new_context(java_script_enabled=False,
                                                viewport={"width": 360, "height": 800},
                                                base_url=live_server.url)
    plain = context.new_page()
    plain.goto(f"/resources/{clinic.slug}/")
    plain.get_by_label("Your email address").fill("reader@example.test")
    plain.get_by_label("I am 18 or older").check()
    plain.get_by_role("button", name="Subscribe").click()
    expect(plain.get_by_role("heading", level=1)).to_have_text("Check your email")
    context.close()
    pending = Subscriber.objects.get(email="reader@example.test").consents.get()
    phone.goto(consent.confirm_url(pending))  # links point at the live server
    expect(phone.get_by_role("heading", level=1)).to_have_text("Confirm your subscription")
    accessible(phone, "confirmation page")
    phone.get_by_role("button", name="Yes, subscribe me").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("You are subscribed")
    phone.goto(consent.unsubscribe_url(pending.pk, None))
    accessible(phone, "unsubscribe page")
    phone.get_by_role("button", name="Unsubscribe").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")

    # The editor's newsletter pages.
    sign_in(desk, "owner.news")
    desk.goto("/newsletter/new/")
    accessible(desk, "newsletter form")
    desk.get_by_label("Subject").fill("Spring news")
    desk.get_by_label("Text").fill("## Spring\n\nKeep using sunscreen.")
    desk.get_by_role("button", name="Save and preview").click()
    expect(desk.get_by_role("heading", name="Who it reaches")).to_be_visible()
    accessible(desk, "newsletter preview")
    screenshot(desk, "education-05-newsletter-preview")
    desk.goto("/newsletter/settings/")
    accessible(desk, "newsletter settings")


def test_the_education_pages_load_without_a_csp_violation(desk: Page, live_server: Any) -> None:
    """The staff, public and newsletter pages under the strict Content-Security-Policy (the
    site-wide walk in test_content_security_policy.py loads them too)."""
    journey = journey_to_signed_session()
    staff = csp._education_pages(journey)
    public = csp._public_pages(journey)
    console = csp._listening(desk)
    problems = {name: csp._load(desk, url, console) for name, url in public.items()}
    sign_in(desk, journey["owner"].username)
    problems.update({name: csp._load(desk, url, console) for name, url in staff.items()})
    assert {name: found for name, found in problems.items() if found} == {}
