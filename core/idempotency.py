"""A create sent twice is done once: the API's ``Idempotency-Key`` header and the portal's one-time form token.

Both store an ``IdempotencyKey`` row per user and key, in the transaction of the write itself: if the write rolls
back, so does the key; if two requests with the same key run at once (two web processes, two hosts), the second
one's insert waits on the unique constraint until the first commits, and then finds its answer. Only successful
answers (2xx, and the portal's redirects after a create) are kept: a refused request wrote nothing, so sending it
again simply runs it again. A key is good for ``WINDOW``; after that it may be used for a new request, and the
periodic purge (``core.tasks.purge_idempotency_keys``) deletes the old rows.

The request hash covers the method, the path with its query and the body, so the same key can never stand for two
different requests: the API refuses the second with 422. The portal's key holds the hash of the input as well, so a
form token shared by two tabs (a page served from the cache) never swallows the second tab's different input: only
the same input with the same token is the same submission.
"""

import datetime
import hashlib
import json
import re
import uuid
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import IdempotencyKey

WINDOW = datetime.timedelta(hours=24)
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")
FORM_TOKEN = re.compile(r"[0-9a-f]{32}")
# A portal row is "portal:" + token + ":" + the input's hash: well within the column's 255 characters.
PORTAL_PREFIX = "portal:"
FORM_TOKEN_FIELD = "form_token"
# Not part of what was typed: the CSRF token (its masked form changes from page to page) and the form token itself.
_NOT_INPUT = {"csrfmiddlewaretoken", FORM_TOKEN_FIELD}


def valid_key(key: str) -> bool:
    return bool(KEY_PATTERN.fullmatch(key))


def request_hash(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed: no two (path, body) pairs hash alike
        digest.update(part)
    return digest.hexdigest()


@dataclass
class Claim:
    """The outcome of ``claim``: ``new`` when this request holds the key (its row is written in the current
    transaction), else ``row`` is the answer of the first request with that key."""

    row: IdempotencyKey
    new: bool

    def matches(self, hashed: str) -> bool:
        return self.row.request_hash == hashed


def claim(*, user, key: str, hashed: str) -> Claim:
    """Take ``key`` for ``user`` inside the caller's transaction, or find the earlier answer under it.

    A row older than ``WINDOW`` no longer counts and is replaced. A concurrent request holding the same key makes
    the insert wait (PostgreSQL's unique index; SQLite's single writer) until it commits, then this one finds its
    row; if it rolls back instead, this one takes the key.
    """
    assert transaction.get_connection().in_atomic_block, "claim() belongs inside the write's transaction"
    IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=timezone.now() - WINDOW).delete()
    existing = IdempotencyKey.objects.filter(user=user, key=key).first()
    if existing is not None:
        return Claim(existing, new=False)
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(user=user, key=key, request_hash=hashed, status_code=0)
    except IntegrityError:
        return Claim(IdempotencyKey.objects.get(user=user, key=key), new=False)
    return Claim(row, new=True)


def record(
    row: IdempotencyKey, *, status_code: int, body: bytes = b"", content_type: str = "", location: str = "", etag: str = ""
):
    """Keep the answer of the request that holds ``row`` (in its transaction, so it commits with the write)."""
    row.status_code, row.body, row.content_type, row.location, row.etag = status_code, body, content_type, location, etag
    row.save(update_fields=["status_code", "body", "content_type", "location", "etag"])


def replay(row: IdempotencyKey) -> HttpResponse:
    """The stored answer again, byte for byte, marked as a replay."""
    response = HttpResponse(bytes(row.body), status=row.status_code, content_type=row.content_type or None)
    if row.location:
        response["Location"] = row.location
    if row.etag:
        response["ETag"] = row.etag
    response[REPLAYED_HEADER] = "true"
    return response


def purge_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete the keys older than ``WINDOW``; returns how many."""
    cutoff = (now or timezone.now()) - WINDOW
    deleted, _per_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- the portal's one-time form token ---------------------------------------------------------------------------


class OneTimeTokenForm(forms.Form):
    """A form that creates something: it carries a token issued when the page is drawn, so that sending it twice
    (a double click, a reload, the back button) creates once. See ``FormSubmission``."""

    # Not required: a page drawn before the token existed still saves (without the protection).
    form_token = forms.CharField(widget=forms.HiddenInput, required=False, strip=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if FORM_TOKEN_FIELD in self.fields:  # a subclass may drop it (``form_token = None``)
            self.fields[FORM_TOKEN_FIELD].initial = uuid.uuid4().hex

    def clean_form_token(self) -> str:
        token = self.cleaned_data.get(FORM_TOKEN_FIELD) or ""
        if token and not FORM_TOKEN.fullmatch(token):  # a hidden field: its error goes on top of the form
            self.add_error(None, _("This page is out of date: reload it and try again."))
            return ""
        return token

    def service_data(self) -> dict:
        """The cleaned values without the token, for a service's keyword arguments."""
        return {name: value for name, value in self.cleaned_data.items() if name != FORM_TOKEN_FIELD}


def _input_hash(request) -> str:
    """The hash of what was sent (method, path, every field but the CSRF and form tokens, in a stable order)."""
    fields = sorted((name, sorted(request.POST.getlist(name))) for name in request.POST if name not in _NOT_INPUT)
    body = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return request_hash(request.method, request.get_full_path(), body)


class FormSubmission:
    """One POST of a portal form that creates something, by its form token.

    Call ``claim()`` inside the transaction of the create: it returns None the first time (and holds the token until
    the commit), else the address of what the first submission with this token and this input created; after the
    create, ``record(url)`` in the same transaction. Without a token (a page drawn before tokens, a script) there is
    nothing to compare: every POST creates.
    """

    def __init__(self, request, token: str | None):
        self.request = request
        self.key = f"{PORTAL_PREFIX}{token}:{_input_hash(request)}" if token else None
        self._row = None

    def claim(self) -> str | None:
        if self.key is None:
            return None
        held = claim(user=self.request.user, key=self.key, hashed=self.key.rsplit(":", 1)[1])
        if held.new:
            self._row = held.row
            return None
        return held.row.location or "/"

    def record(self, location: str) -> None:
        if self._row is not None:
            record(self._row, status_code=302, location=location)

    def replay(self, location: str, message=None) -> HttpResponseRedirect:
        """Back to what the first submission created, saying so."""
        messages.info(self.request, message or _("This form had already been sent: it was saved once, shown here."))
        return HttpResponseRedirect(location)
