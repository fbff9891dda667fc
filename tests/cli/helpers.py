"""Running the `labopt` command in-process for the CLI tests."""

from typer.testing import CliRunner

from labopt.cli.main import app

runner = CliRunner()


def run(*args):
    """`labopt ARGS...` (paths may be Path objects); the click Result."""
    return runner.invoke(app, [str(a) for a in args])


def refused(r, *words) -> None:
    """An input error: exit status 2, one error line (no traceback) holding ``words``."""
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit), r.exception
    assert "error:" in r.output and "Traceback" not in r.output
    text = " ".join(r.output.split())  # the terminal wraps long lines anywhere
    for w in words:
        assert w in text, r.output


def snapshot(folder) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
