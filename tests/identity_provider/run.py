"""Start the test identity provider: python -m tests.identity_provider.run PORT CONFIG_JSON.

CONFIG_JSON names the users ({"username": ..., "password": ..., "email": ...}) and the client
({"client_id", "client_secret", "redirect_uris"}); the RSA key is generated here, the database migrated, then
Django's development server runs on 127.0.0.1:PORT (threaded, no reloader)."""

import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def main():
    port, config_path = sys.argv[1], sys.argv[2]
    with open(config_path) as handle:
        config = json.load(handle)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    os.environ["IDP_RSA_KEY"] = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.identity_provider.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for user in config["users"]:
        User.objects.create_user(
            user["username"],
            email=user["email"],
            password=user["password"],
            first_name=user.get("first_name", ""),
            last_name=user.get("last_name", ""),
        )
    client = config["client"]
    Application.objects.create(
        name="portal",
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(client["redirect_uris"]),
        post_logout_redirect_uris=" ".join(client["redirect_uris"]),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True, verbosity=0)


if __name__ == "__main__":
    main()
