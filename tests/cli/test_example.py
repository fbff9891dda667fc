"""`labopt example`: list the packaged example scenarios, copy one out."""

from labopt.examples import EXAMPLES, names
from labopt.files import MARKER, read_marker
from tests.cli.helpers import refused, run, snapshot


def test_list_names_every_example_on_one_line():
    for args in ((), ("--list",)):
        r = run("example", *args)
        assert r.exit_code == 0, r.output
        lines = r.stdout.splitlines()
        assert [line.split()[0] for line in lines] == names()
        assert all(len(line.split()) > 1 for line in lines)  # a description after the name
    assert "Thanh Hóa province" in run("example").stdout


def test_an_example_copied_out_is_the_packaged_one_and_plans(tmp_path):
    out = tmp_path / "tv"
    r = run("example", "tra_vinh", out)
    assert r.exit_code == 0, r.output
    copied = snapshot(out)
    assert copied.pop(MARKER) and copied == snapshot(EXAMPLES / "tra_vinh")
    assert set(read_marker(out)) == set(copied)
    assert run("scenario", "check", out).exit_code == 0
    plan = run("plan", out, "--days", "1")
    assert plan.exit_code == 0, plan.output
    assert "Independent check: OK" in plan.output


def test_an_unknown_name_lists_the_allowed_ones(tmp_path):
    r = run("example", "hanoi", tmp_path / "x")
    refused(r, "'hanoi'", *names())
    assert not (tmp_path / "x").exists()


def test_a_name_without_a_folder_is_refused():
    refused(run("example", "tra_vinh"), "DIR")


def test_folders_labopt_did_not_write_and_the_package_are_refused(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    refused(run("example", "mai_son", out), "not a labopt output folder", "notes.txt")
    assert snapshot(out) == {"notes.txt": b"mine"}
    assert run("example", "mai_son", out, "--force").exit_code == 0
    assert (out / "notes.txt").read_text() == "mine"
    before = snapshot(EXAMPLES)
    refused(run("example", "mai_son", EXAMPLES / "mai_son" / "copy"), "inside labopt's own package")
    refused(run("example", "mai_son", out), "already holds files labopt wrote")
    assert snapshot(EXAMPLES) == before


def test_nothing_is_copied_into_labopts_package_and_the_list_is_unchanged(tmp_path):
    before = names()
    for args in (["example", "thanh_hoa"], ["scenario", "new"]):
        target = EXAMPLES / "my_copy"
        refused(run(*args, target), "inside labopt's own package")
        assert not target.exists()
    assert names() == before
    assert all((EXAMPLES / n / "scenario.toml").is_file() for n in before)
