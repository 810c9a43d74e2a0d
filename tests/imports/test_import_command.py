import pytest
from django.core.management import CommandError, call_command

from engagements.models import Engagement
from partnerships.services import partnership_create
from tests import factories

from .helpers import csv_bytes, table_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def sheet(tmp_path, staff_user):
    partnership_create(actor=staff_user, country=factories.country("GB"), started_on=None)
    path = tmp_path / "log.csv"
    path.write_bytes(csv_bytes([["Country", "Date", "Summary"], ["GB", "2026-01-10", "Kick-off"], ["ZZ", "2026-01-10", "Bad"]]))
    return path


def test_dry_run_from_the_command_line_writes_nothing(sheet, staff_user, capsys):
    before = table_counts()
    call_command("import_data", "engagements", str(sheet), "--dry-run", "--as", "staff")
    out, err = capsys.readouterr()
    assert "1 would be created" in out and "1 refused" in out
    assert "line 3: Country: No country is called “ZZ”." in err
    assert table_counts() == before


def test_apply_from_the_command_line_as_a_liaison(sheet, capsys):
    factories.liaison("GB", username="gb-cli")
    call_command("import_data", "engagements", str(sheet), "--as", "gb-cli")
    assert "1 were created" in capsys.readouterr().out
    assert Engagement.objects.get().logged_by.username == "gb-cli"
    call_command("import_data", "engagements", str(sheet), "--as", "gb-cli")
    assert "0 were created, 0 updated, 1 unchanged" in capsys.readouterr().out


def test_a_refused_file_or_a_viewer_is_a_command_error(sheet, tmp_path):
    factories.viewer(username="cli-viewer")
    with pytest.raises(CommandError, match="Only programme staff and liaisons"):
        call_command("import_data", "engagements", str(sheet), "--as", "cli-viewer")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x00")
    with pytest.raises(CommandError, match="NUL"):
        call_command("import_data", "engagements", str(bad), "--as", "staff")
