"""Recovery codes stored before their digests were: each replaced by its digest (core.mfa.policies.recovery_code_digest,
frozen here as it was written). A stored code is 8 characters; a digest, 16."""

from django.conf import settings
from django.db import migrations
from django.utils.crypto import salted_hmac

RECOVERY_DEVICE_NAME = "recovery codes"
SALT = "core.mfa.recovery-code"


def codes_to_digests(apps, schema_editor):
    StaticToken = apps.get_model("otp_static", "StaticToken")
    for token in StaticToken.objects.filter(device__name=RECOVERY_DEVICE_NAME).exclude(token__regex=r"^[0-9a-f]{16}$"):
        token.token = salted_hmac(SALT, token.token, secret=settings.SECRET_KEY, algorithm="sha256").hexdigest()[:16]
        token.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_public_record_source"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(codes_to_digests, migrations.RunPython.noop, elidable=True)]
