"""Scale-out: two web servers (separate gunicorn processes on separate ports, standing for two hosts) and two
workers against one PostgreSQL and one Redis. What one host does, the other knows at once:

- a token revoked through one is refused by the other;
- a sign-out on one ends the session on both;
- rate limits count the requests of both;
- a page cached by one is rebuilt by both after a write through the other;
- an API create sent to one with an ``Idempotency-Key`` and sent again to the other is done once.
"""

import os
import re
import subprocess
import sys
import time

import httpx
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from core.models import Event, IdempotencyKey
from core.services import api_token_create
from engagements.models import Engagement
from partnerships.services import partnership_create
from tests import factories

from .conftest import ROOT, Worker, celery_sends_to, database_url, free_port, wait_for

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]

PASSWORD = "two-hosts-password"
RATE = 8  # API requests a minute per token, for this test's servers


class Host:
    """One gunicorn process (one sync worker) on a port of its own, with production settings."""

    def __init__(self, name: str, *, env: dict, tmp_path):
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"web-{name}.log"
        self.env = env
        self.process = None

    def start(self) -> "Host":
        log = self.log_path.open("a")
        argv = [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "1"]
        if not (ROOT / ".venv" / "bin" / "gunicorn").exists():
            argv[0:1] = [sys.executable, "-m", "gunicorn"]
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

        def answers():
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_for(answers, timeout=60, interval=0.3), f"{self.name} did not start:\n{self.log_path.read_text()[-3000:]}"
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def hosts(own_redis, queue, workers, tmp_path):
    static_root = tmp_path / "static"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": own_redis.url,
        "CACHE_URL": own_redis.url.rsplit("/", 1)[0] + "/1",  # shared by both, as docs/operations.md asks
        "CELERY_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "ROLLUP_COALESCE_SECONDS": "0",
        "DEBUG": "0",
        "SECRET_KEY": "two-hosts-" + "s" * 50,  # the same on every host: sessions and signed values travel
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_ROOT": str(static_root),
        "API_THROTTLE_TOKEN": f"{RATE}/min",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    for name in ("a", "b"):  # two workers, each consuming every queue
        workers.append(Worker(name=f"worker-{name}", broker_url=own_redis.url, queue=queue, tmp_path=tmp_path).start())
    started = [Host("a", env=env, tmp_path=tmp_path).start(), Host("b", env=env, tmp_path=tmp_path).start()]
    with celery_sends_to(own_redis.url, queue):
        yield started
    for host in started:
        host.stop()


def sign_in(host: Host, username: str) -> httpx.Client:
    browser = httpx.Client(base_url=host.url, follow_redirects=False, timeout=30)
    form = browser.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = browser.post("/accounts/login/", data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
                          headers={"Referer": f"{host.url}/accounts/login/"})  # fmt: skip
    assert answer.status_code == 302, re.sub(r"\s+", " ", answer.text[answer.text.find("<main") :])[:1500]
    return browser


def same_browser_on(browser: httpx.Client, host: Host) -> httpx.Client:
    """The browser's cookies sent to the other host (behind one load balancer, both are the same site)."""
    other = httpx.Client(base_url=host.url, follow_redirects=False, timeout=30)
    for name, value in browser.cookies.items():
        other.cookies.set(name, value)
    return other


def csrf_of(browser: httpx.Client, path: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(path).text).group(1)


def test_two_web_servers_and_two_workers_share_what_they_must(hosts):
    a, b = hosts
    liaison = factories.liaison("GB", username="gb-liaison")
    # Hashed as the servers hash (the tests' own settings use a fast hasher the servers do not know).
    liaison.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    liaison.save()
    partnership_create(actor=factories.staff(username="staff"), country=factories.country("GB"))

    # A token revoked through one host is refused by the other at once.
    token, secret = api_token_create(actor=liaison, user=liaison, name="ministry sync", days=30)
    api_b = httpx.Client(base_url=b.url, headers={"Authorization": f"Token {secret}"}, timeout=30)
    assert api_b.get("/api/v1/users/me/").status_code == 200  # now in B's view of the token cache
    on_a = sign_in(a, "gb-liaison")
    form = {"csrfmiddlewaretoken": csrf_of(on_a, "/account/api-tokens/")}
    revoked = on_a.post(f"/account/api-tokens/{token.token_key}/revoke/", data=form, headers={"Referer": f"{a.url}/account/"})
    assert revoked.status_code == 302, revoked.text[:2000]
    assert api_b.get("/api/v1/users/me/").status_code == 401

    # Rate limits count across both: RATE requests in all, alternating, then the next is refused on either.
    # The counters are per minute of the clock (core.api.throttling): a burst that straddles a minute would start
    # a new count halfway, so it starts with at least 20 seconds of its minute left.
    _token, counted = api_token_create(actor=liaison, user=liaison, name="counted", days=30)
    if time.time() % 60 > 40:
        time.sleep(60.5 - time.time() % 60)
    answers = [
        httpx.get(f"{(a, b)[n % 2].url}/api/v1/users/me/", headers={"Authorization": f"Token {counted}"}, timeout=30).status_code
        for n in range(RATE + 2)
    ]
    assert answers[:RATE] == [200] * RATE and answers[RATE:] == [429, 429], answers

    # A page cached by each host is rebuilt by both after a write through the other.
    on_b = same_browser_on(on_a, b)
    for browser in (on_a, on_b):
        first = browser.get("/countries/gb/")
        assert first.status_code == 200 and "Written through host B" not in first.text
        assert "Written through host B" not in browser.get("/countries/gb/").text  # served from the page cache now
    _t, writer = api_token_create(actor=liaison, user=liaison, name="writer", days=30)
    written = httpx.post(f"{b.url}/api/v1/engagements/", headers={"Authorization": f"Token {writer}"}, timeout=30,
                         json={"country": "GB", "occurred_on": time.strftime("%Y-%m-%d"), "kind": "call",
                               "summary": "Written through host B"})  # fmt: skip
    assert written.status_code == 201, written.text
    for browser in (on_a, on_b):
        assert "Written through host B" in browser.get("/countries/gb/").text, browser.base_url

    # A sign-out on one host ends the session on both.
    assert on_b.get("/countries/gb/").status_code == 200
    signed_out = on_b.post("/accounts/logout/", data={"csrfmiddlewaretoken": csrf_of(on_b, "/countries/gb/")},
                           headers={"Referer": f"{b.url}/countries/gb/"})  # fmt: skip
    assert signed_out.status_code in (200, 302), signed_out.text[:2000]
    again = same_browser_on(on_a, a)  # the cookie the browser held before signing out
    answer = again.get("/countries/gb/")
    assert answer.status_code == 302 and "/accounts/login/" in answer.headers["Location"]

    # An API create sent to one host with an Idempotency-Key and again to the other is done once (the servers
    # start in about half a minute, so this shares the test's hosts rather than starting its own).
    an_idempotency_key_used_on_one_host_is_honoured_by_the_other(a, b, liaison)


def an_idempotency_key_used_on_one_host_is_honoured_by_the_other(a: Host, b: Host, liaison) -> None:
    _token, secret = api_token_create(actor=liaison, user=liaison, name="idempotent sync", days=30)
    body = {"country": "GB", "occurred_on": time.strftime("%Y-%m-%d"), "kind": "call", "summary": "Sent to both hosts"}

    def post(host: Host, key: str, payload: dict) -> httpx.Response:
        headers = {"Authorization": f"Token {secret}", "Idempotency-Key": key}
        return httpx.post(f"{host.url}/api/v1/engagements/", headers=headers, json=payload, timeout=30)

    def written() -> tuple[int, int, int]:
        return (
            Engagement.objects.count(),
            Event.objects.filter(kind="engagement.logged").count(),
            IdempotencyKey.objects.count(),
        )

    before = written()
    once = tuple(n + 1 for n in before)
    first = post(a, "sync-0001", body)
    assert first.status_code == 201, first.text
    assert written() == once

    replayed = post(b, "sync-0001", body)
    assert (replayed.status_code, replayed.content) == (first.status_code, first.content)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert written() == once

    reused = post(b, "sync-0001", {**body, "summary": "Something else"})
    assert reused.status_code == 422, reused.text
    assert reused.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert written() == once
    assert not Engagement.objects.filter(summary="Something else").exists()
