"""Signed webhook deliveries.

Body: JSON ``{"id", "kind", "created_at", "country", "subject": {"type", "id"}, "payload"}``.
Headers: ``X-Portal-Event`` (kind), ``X-Portal-Delivery`` (delivery id), and
``X-Portal-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint's secret>``.
A receiver recomputes the HMAC over the raw body and rejects old timestamps.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from countries.models import Country

TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 8


def event_body(event) -> bytes:
    country = Country.objects.filter(pk=event.country_id).values_list("iso2", flat=True).first() if event.country_id else None
    body = {
        "id": event.pk,
        "kind": event.kind,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "country": country,
        "subject": {"type": event.subject_type, "id": event.subject_id},
        "payload": event.payload,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (used by the tests, and a reference for REST clients)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


def post(endpoint, delivery_id: int, event) -> tuple[int | None, str]:
    """POST one event; returns (HTTP status or None, error text or "")."""
    body = event_body(event)
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "partnership-portal-webhooks/1",
            "X-Portal-Event": event.kind,
            "X-Portal-Delivery": str(delivery_id),
            "X-Portal-Signature": sign(endpoint.secret, body, int(time.time())),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - staff-registered URL
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]
    except Exception as exc:  # noqa: BLE001 - a receiver answering garbage is a failed attempt like any other
        return None, f"{type(exc).__name__}: {exc}"[:500]


def backoff_seconds(attempts: int) -> int:
    """30 s, 1 min, 2 min, 4 min ... capped at one hour."""
    return min(30 * 2 ** max(attempts - 1, 0), 3600)
