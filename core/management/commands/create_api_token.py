from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for (default: 'cli-<date>').")
        parser.add_argument("--days", type=int, default=90, help="Days until it expires (1-366, default 90).")

    def handle(self, *args, username, name, days, **options):
        from django.utils import timezone

        try:
            user = get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No active user called {username!r}.") from exc
        name = name or f"cli-{timezone.now():%Y%m%d-%H%M%S}"
        try:
            token, secret = api_token_create(actor=user, user=user, name=name, days=days)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())) from exc
        self.stderr.write(f"Token {token.name!r} for {username}, expires {token.expiry:%Y-%m-%d %H:%M} UTC. Store it now:")
        self.stdout.write(secret)
