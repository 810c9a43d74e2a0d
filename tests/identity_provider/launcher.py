"""Start and stop the test identity provider (run.py) as a separate process on a free loopback port."""

import contextlib
import dataclasses
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "portal-client"
CLIENT_SECRET = "portal-client-secret-for-tests"
PASSWORD = "provider-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclasses.dataclass
class Provider:
    issuer: str
    port: int
    claims_file: Path

    @property
    def login_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/accounts/login/"

    def set_claims(self, username: str, **claims) -> None:
        """The extra claims (groups, countries, amr) the provider puts in ``username``'s next tokens."""
        current = json.loads(self.claims_file.read_text())
        current[username] = claims
        self.claims_file.write_text(json.dumps(current))


@contextlib.contextmanager
def running_provider(directory: Path, users: dict, redirect_uris: list[str]):
    """The provider with ``users`` (user name: e-mail and names, all with PASSWORD) and one confidential client
    (CLIENT_ID) allowed to come back to ``redirect_uris``; stopped on exit."""
    claims_file = directory / "claims.json"
    claims_file.write_text("{}")
    config = directory / "config.json"
    config.write_text(
        json.dumps(
            {
                "users": [{"username": name, "password": PASSWORD, **fields} for name, fields in users.items()],
                "client": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris},
            }
        )
    )
    port = free_port()
    env = {"IDP_DATABASE": str(directory / "idp.sqlite3"), "IDP_CLAIMS_FILE": str(claims_file), "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.identity_provider.run", str(port), str(config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    issuer = f"http://127.0.0.1:{port}/o"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(issuer + "/.well-known/openid-configuration", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the identity provider did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        yield Provider(issuer=issuer, port=port, claims_file=claims_file)
    finally:
        process.terminate()
        process.wait(10)
