"""E-mails: one per notification (immediate) or a digest; HTML and text parts; an unsubscribe link."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .describe import Describer
from .models import Preference

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


def unsubscribe_token(user) -> str:
    return signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT)


def user_from_token(token: str, max_age_days: int = 365):
    user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=max_age_days * 86400)
    return get_user_model().objects.get(pk=user_id)


def _absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _language(user) -> str:
    pref = Preference.objects.filter(user=user).values_list("language", flat=True).first()
    return pref or settings.LANGUAGE_CODE


def build_email(user, notifications, *, subject: str, template: str) -> EmailMultiAlternatives:
    language = _language(user)
    describer = Describer([n.event for n in notifications])
    unsubscribe_url = _absolute(reverse("notifications:unsubscribe", args=[unsubscribe_token(user)]))
    with translation.override(language):
        items = [{"text": describer.describe(n.event, language), "when": n.event.created_at} for n in notifications]
        context = {
            "user": user,
            "items": items,
            "inbox_url": _absolute(reverse("notifications:inbox")),
            "preferences_url": _absolute(reverse("notifications:preferences")),
            "unsubscribe_url": unsubscribe_url,
            "LANGUAGE_CODE": language,
        }
        text = render_to_string(f"notifications/email/{template}.txt", context)
        html = render_to_string(f"notifications/email/{template}.html", context)
        subject = str(subject)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.attach_alternative(html, "text/html")
    return message
