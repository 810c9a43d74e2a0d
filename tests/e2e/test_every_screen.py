"""Every page of the portal's navigation, for each role, at 320, 390, 1280 and 1366 px (Chromium): the page never
scrolls sideways (WCAG 1.4.10: a wide table may scroll inside its own region), no badge or pill is clipped or
wrapped, the browser reports no error (Content-Security-Policy included), and axe-core finds nothing serious (at
320 and 1366 px). Each page is loaded once per role and resized in place.
A screenshot of each page, role and width goes to test-artifacts/reflow/.

The data are the demo programme's, so the pages hold real lengths of names, titles and tables."""

import re

import pytest
from django.core.cache import cache

from countries.models import LiaisonAssignment
from demo.builder import DEFAULT_SEED, seed_demo
from engagements.models import Engagement

from .conftest import ARTIFACTS, serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]

WIDTHS = (320, 390, 1280, 1366)
AXE_WIDTHS = (320, 1366)  # axe-core at the narrowest and the widest: its rules do not change in between
PASSWORD = "pw-for-tests-1"

DASHBOARDS = ["/dashboard/", "/dashboard/funnels/", "/dashboard/attention/", "/dashboard/infrastructure/",
              "/dashboard/map/", "/dashboard/history/"]  # fmt: skip
READER_PAGES = ["/", *DASHBOARDS, "/follow-ups/?show=all", "/announcements/", "/notifications/",
                "/notifications/settings/", "/account/", "/account/api-tokens/", "/account/calendar-feeds/",
                "/account/second-factors/", "/search/?q=min",
                "/countries/{country}/", "/countries/{country}/counterparts/", "/countries/{country}/briefing/",
                "/briefing-packs/"]  # fmt: skip
ROLE_PAGES = {
    "anon": ["/accounts/login/", "/announcements/", "/no-such-page/"],
    "demo-viewer": READER_PAGES,
    "demo-liaison": [
        *READER_PAGES,
        "/engagements/{engagement}/",
        "/engagements/{engagement}/edit/",
        "/countries/{country}/engagements/new/",
        "/countries/{country}/follow-ups/new/",
        "/announcements/manage/",
        "/imports/",
    ],  # fmt: skip
    "demo-staff": [
        *READER_PAGES,
        "/engagements/{engagement}/",
        "/announcements/manage/",
        "/audit/",
        "/users/",
        "/users/invite/",
        "/users/{liaison}/",
        "/imports/",
        "/groupings/",
        "/groupings/new/",
    ],  # fmt: skip
}

# Elements on the page (outside a region that scrolls on its own) that reach past the right edge, and pills whose
# text is cut or broken over two lines.
MEASURE = """() => {
  const vw = document.documentElement.clientWidth;
  const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.checkVisibility()) continue;  // in the closed menu, say
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 1 && !scrolls(el)) wide.push(name(el) + ' right=' + Math.round(r.right));
  }
  const clipped = [];
  for (const el of document.querySelectorAll('.badge, .health, .stage-chip, .count, .health-text')) {
    if (!el.checkVisibility() || !el.getClientRects().length) continue;
    const cut = el.scrollWidth > el.clientWidth + 1, wrapped = el.getClientRects().length > 1;
    if (cut || wrapped) clipped.push(name(el) + ' ' + el.textContent.trim());
  }
  return {scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 5), clipped: clipped.slice(0, 5)};
}"""


@pytest.fixture
def programme():
    seed_demo(seed=DEFAULT_SEED, countries=8, engagements=120, password=PASSWORD)
    cache.clear()
    assignment = LiaisonAssignment.objects.filter(user__username="demo-liaison").order_by("country__iso2").first()
    country = assignment.country
    engagement = Engagement.objects.filter(country=country, voided_at__isnull=True).order_by("-occurred_on").first()
    return {"country": country.iso2.lower(), "engagement": engagement.pk, "liaison": assignment.user_id}


@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_every_page_fits_every_screen(page, programme, role):
    problems = []
    errors = []
    # The browser logs the 404 of the error page itself as an error: that one is expected.
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" and "404" not in message.text else None,
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    if role != "anon":
        sign_in(page, role, PASSWORD)
    folder = ARTIFACTS / "reflow"
    folder.mkdir(parents=True, exist_ok=True)
    for template in ROLE_PAGES[role]:
        path = template.format(**programme)
        page.set_viewport_size({"width": WIDTHS[-1], "height": 900})
        response = page.goto(path)
        expected = 404 if path == "/no-such-page/" else 200  # the error page is checked like any other
        assert response.status == expected, f"{role} {path}: {response.status}"
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            found = page.evaluate(MEASURE)
            if found["scrollWidth"] > width or found["wide"]:
                problems.append(f"{role} {path} at {width}px: page {found['scrollWidth']}px wide; {found['wide']}")
            if found["clipped"]:
                problems.append(f"{role} {path} at {width}px: clipped {found['clipped']}")
            violations = serious_accessibility_violations(page) if width in AXE_WIDTHS else []
            if violations:
                problems.append(f"{role} {path} at {width}px: axe {violations}")
            slug = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "home"
            page.screenshot(path=str(folder / f"{role}-{slug}-{width}.png"), full_page=True)
        if errors:
            problems.append(f"{role} {path}: console {errors[:3]}")
            errors.clear()
    assert problems == []


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


@pytest.mark.parametrize("path", ["/countries/{country}/", "/dashboard/"])
def test_pages_print_without_navigation_or_forms(page, programme, path):
    sign_in(page, "demo-liaison", PASSWORD)
    page.goto(path.format(**programme))
    page.emulate_media(media="print")
    assert page.locator("header.site-header").is_hidden()
    shown = page.evaluate("""() => [...document.querySelectorAll('form, button, nav, select, input:not([type=hidden])')]
        .filter((el) => el.checkVisibility()).map((el) => el.outerHTML.slice(0, 80))""")
    assert shown == []
    assert page.get_by_role("heading", level=1).is_visible()
    folder = ARTIFACTS / "print"
    folder.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(format="A4", prefer_css_page_size=True, path=str(folder / f"{path.strip('/').split('/')[0]}.pdf"))
    assert 1 <= _pdf_pages(pdf) <= 4  # the demo country (20 engagements) on a few A4 pages, not six of menus and forms


def test_each_country_on_the_map_is_a_link_reached_by_keyboard(page, programme):
    sign_in(page, "demo-viewer", PASSWORD)
    page.goto("/dashboard/map/")
    links = page.locator(".world-map svg a")
    assert links.count() >= 5
    first = links.first
    label = first.get_attribute("aria-label")
    first.focus()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == label
    page.keyboard.press("Enter")
    page.wait_for_url("**/countries/*/")
    assert page.get_by_role("heading", level=1).inner_text().startswith(label.split(":")[0])
