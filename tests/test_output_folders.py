"""Every command that writes a folder touches only labopt's own files: a folder it did not write
is refused (unless --force), a file it did not write is never replaced or deleted (not even with
--force), symlinks never lead it outside the folder, and a failure while writing leaves the old
output as it was."""

import json
import os
import stat
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import labopt.files as files
from labopt.cli.main import app
from labopt.files import (
    MARKER,
    PACKAGE,
    Beside,
    OutputFolderError,
    read_marker,
    write_output_folder,
)

TINY = Path(__file__).parent / "data" / "tiny"
THESIS = b"four years of work"
runner = CliRunner()


def run(*args, cwd=None):
    if cwd is None:
        return runner.invoke(app, [str(a) for a in args])
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, [str(a) for a in args])
    finally:
        os.chdir(old)


@pytest.fixture
def inputs(tmp_path):
    """A batch of samples and first-stage pool results, outside the output folders."""
    src = tmp_path / "inputs"
    src.mkdir()
    pd.DataFrame(
        {"sample_id": [f"S{i:03d}" for i in range(30)], "district": "a", "stream": "screening"}
    ).to_csv(src / "samples.csv", index=False)
    rng = np.random.default_rng(1)
    pd.DataFrame(
        {
            "size": 5,
            "result": rng.choice(["negative", "positive"], 40, p=[0.9, 0.1]),
            "district": "a",
            "stream": "screening",
        }
    ).to_csv(src / "first_stage.csv", index=False)
    return src


# every command that writes a folder: (its arguments for output folder D, a file it writes)
COMMANDS = {
    "plan": (lambda src, d: ["plan", TINY, "--out", d, "--days", "2"], "summary.json"),
    "batch make": (
        lambda src, d: ["batch", "make", src / "samples.csv", "-a", "D2", "-c", "5", "--out", d],
        "plates.csv",
    ),
    "estimate": (lambda src, d: ["estimate", src / "first_stage.csv", "--out", d], "estimates.csv"),
    "scenario convert": (lambda src, d: ["scenario", "convert", TINY, d], "districts.csv"),
    "synth": (
        lambda src, d: ["synth", "--districts", "12", "--labs", "5", "--days", "2", "--out", d],
        "labs.csv",
    ),
}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def refused(r, *words) -> None:
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit), r.exception  # no traceback
    assert "error:" in r.output and "Traceback" not in r.output
    text = " ".join(r.output.split())  # the terminal wraps long lines anywhere
    for w in words:
        assert w in text, r.output


@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_labopt_did_not_write_is_refused(tmp_path, inputs, command):
    args, _ = COMMANDS[command]
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "thesis.docx").write_bytes(THESIS)
    r = run(*args(inputs, out))
    refused(r, "not a labopt output folder", "thesis.docx", "--force")
    assert snapshot(out) == {"thesis.docx": THESIS}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs", "thesis"]  # no leftovers


@pytest.mark.parametrize("command", COMMANDS)
def test_an_output_under_a_file_is_refused_with_a_message(tmp_path, inputs, command):
    args, _ = COMMANDS[command]
    (tmp_path / "notes.txt").write_bytes(THESIS)
    r = run(*args(inputs, tmp_path / "notes.txt" / "out"))
    refused(r, "notes.txt is a file, not a folder")
    assert "Errno" not in r.output
    assert (tmp_path / "notes.txt").read_bytes() == THESIS


@pytest.mark.parametrize("command", COMMANDS)
def test_no_output_is_written_inside_labopts_package(tmp_path, inputs, command):
    args, _ = COMMANDS[command]
    target = PACKAGE / "examples" / "an_output_here"
    r = run(*args(inputs, target), "--force")
    refused(r, "inside labopt's own package")
    assert not target.exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_force_writes_beside_the_users_files_and_keeps_them(tmp_path, inputs, command):
    args, written = COMMANDS[command]
    out = tmp_path / "shared"
    (out / "notes").mkdir(parents=True)
    (out / "thesis.docx").write_bytes(THESIS)
    (out / "notes" / "a.txt").write_text("mine")
    r = run(*args(inputs, out), "--force")
    assert r.exit_code == 0, r.output
    assert (out / "thesis.docx").read_bytes() == THESIS
    assert (out / "notes" / "a.txt").read_text() == "mine"
    listed = read_marker(out)
    assert written in listed and "thesis.docx" not in listed and "notes/a.txt" not in listed
    assert all((out / p).is_file() for p in listed)
    if command == "batch make":  # a batch is made once; decode updates it
        return
    (out / written).write_text("stale")
    again = run(*args(inputs, out))  # labopt's own folder now: no --force needed
    assert again.exit_code == 0, again.output
    assert (out / "thesis.docx").read_bytes() == THESIS
    assert (out / "notes" / "a.txt").read_text() == "mine"
    assert (out / written).read_text() != "stale"


@pytest.mark.parametrize("command", COMMANDS)
def test_force_never_replaces_a_file_of_the_same_name(tmp_path, inputs, command):
    args, written = COMMANDS[command]
    out = tmp_path / "o"
    out.mkdir()
    (out / written).write_bytes(THESIS)
    r = run(*args(inputs, out), "--force")
    refused(r, "was not written by labopt", written)
    assert snapshot(out) == {written: THESIS}


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "batch make"])
def test_rerun_replaces_labopt_files_and_keeps_a_file_added_since(tmp_path, inputs, command):
    args, written = COMMANDS[command]
    out = tmp_path / "o"
    assert run(*args(inputs, out)).exit_code == 0
    first = read_marker(out)
    assert first and written in first
    assert run(*args(inputs, out)).exit_code == 0  # only labopt's files: swapped
    assert read_marker(out) == first
    (out / "my_notes.txt").write_bytes(THESIS)
    (out / written).write_text("old")
    r = run(*args(inputs, out))
    assert r.exit_code == 0, r.output
    assert (out / "my_notes.txt").read_bytes() == THESIS
    assert (out / written).read_text() != "old"
    assert read_marker(out) == first


def test_out_dot_in_a_working_folder_is_refused(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "thesis.docx").write_bytes(THESIS)
    refused(run("plan", TINY, "--out", ".", cwd=work), "not a labopt output folder")
    assert snapshot(work) == {"thesis.docx": THESIS}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_an_existing_empty_folder_is_written_in_place(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    inode = out.stat().st_ino
    assert run("plan", TINY, "--out", out, "--days", "2").exit_code == 0
    assert out.stat().st_ino == inode and (out / "plan.xlsx").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["empty"]


def test_an_output_folder_without_marker_is_not_labopts(tmp_path):
    """A plan folder written before markers existed: refused, and --force does not overwrite
    its files (labopt cannot know it wrote them); the message says to move them."""
    out = tmp_path / "old_plan"
    assert run("plan", TINY, "--out", out, "--days", "2").exit_code == 0
    (out / MARKER).unlink()
    before = snapshot(out)
    refused(run("plan", TINY, "--out", out), "not a labopt output folder")
    refused(run("plan", TINY, "--out", out, "--force"), "was not written by labopt")
    assert snapshot(out) == before


# ------------------------------------------------------------------ batch decode
def results_for(batch: Path, path: Path, positive: bool = False) -> Path:
    """Controls pass, reactions negative (the first one positive with ``positive``)."""
    t = pd.read_csv(batch / "results_template.csv", dtype=str, keep_default_na=False)
    t["result"] = np.where(t["content"] == "positive_control", "positive", "negative")
    if positive:
        t.loc[(t["content"] == "reaction").idxmax(), "result"] = "positive"
    t.to_csv(path, index=False)
    return path


def test_decode_updates_its_batch_and_keeps_the_users_file(tmp_path, inputs):
    out = tmp_path / "batch"
    assert (
        run("batch", "make", inputs / "samples.csv", "-a", "D2", "-c", "5", "--out", out).exit_code
        == 0
    )
    (out / "lab_notes.txt").write_bytes(THESIS)
    r = run("batch", "decode", out, results_for(out, tmp_path / "r.csv"))
    assert r.exit_code == 0, r.output
    assert (out / "lab_notes.txt").read_bytes() == THESIS
    assert "lab_notes.txt" not in read_marker(out) and "statuses.csv" in read_marker(out)
    statuses = pd.read_csv(out / "statuses.csv")
    assert (statuses["status"] == "negative").all()


def test_decode_adopts_a_batch_folder_made_before_markers(tmp_path, inputs):
    """A batch folder is recognised by its batch.json and manifest.csv (read and checked by
    decode) when it holds nothing but a batch's files: they count as labopt's and a marker is
    written. With a file of the user's in it, it is the user's folder: refused."""
    out = tmp_path / "batch"
    assert (
        run("batch", "make", inputs / "samples.csv", "-a", "D2", "-c", "5", "--out", out).exit_code
        == 0
    )
    (out / MARKER).unlink()
    (out / "lab_notes.txt").write_bytes(THESIS)
    before = snapshot(out)
    refused(
        run("batch", "decode", out, results_for(out, tmp_path / "r.csv")),
        "not a labopt output folder",
        "lab_notes.txt",
    )
    assert snapshot(out) == before
    (out / "lab_notes.txt").unlink()
    r = run("batch", "decode", out, results_for(out, tmp_path / "r.csv"))
    assert r.exit_code == 0, r.output
    assert {"manifest.csv", "statuses.csv", "batch.json"} <= read_marker(out)


def test_decode_never_adopts_a_users_folder_or_manifest(tmp_path, inputs):
    """A bare manifest.csv beside the user's thesis is the user's folder: decode refuses it,
    and with --force still never rewrites the manifest; a manifest with a column added by hand
    is never rewritten either."""
    made = tmp_path / "made"
    assert (
        run("batch", "make", inputs / "samples.csv", "-a", "D2", "-c", "5", "--out", made).exit_code
        == 0
    )
    res = results_for(made, tmp_path / "r.csv")
    dl = tmp_path / "dl"
    dl.mkdir()
    (dl / "thesis.docx").write_bytes(THESIS)
    (dl / "manifest.csv").write_bytes((made / "manifest.csv").read_bytes())
    before = snapshot(dl)
    refused(run("batch", "decode", dl / "manifest.csv", res), "not a labopt output folder")
    refused(
        run("batch", "decode", dl / "manifest.csv", res, "--force"),
        "manifest.csv was not written by labopt",
    )
    assert snapshot(dl) == before
    manifest = pd.read_csv(made / "manifest.csv", dtype=str, keep_default_na=False)
    manifest["notes"] = "sample looked fine"
    manifest.to_csv(dl / "manifest.csv", index=False)
    (dl / "thesis.docx").unlink()  # only the hand-extended manifest left
    before = snapshot(dl)
    for extra in ([], ["--force"]):
        refused(run("batch", "decode", dl / "manifest.csv", res, *extra), "'notes'")
    assert snapshot(dl) == before


def test_decode_out_elsewhere_follows_the_same_rules(tmp_path, inputs):
    out = tmp_path / "batch"
    run("batch", "make", inputs / "samples.csv", "-a", "D2", "-c", "5", "--out", out)
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.docx").write_bytes(THESIS)
    r = run("batch", "decode", out, results_for(out, tmp_path / "r.csv"), "--out", other)
    refused(r, "--out", "not a labopt output folder")
    assert snapshot(other) == {"thesis.docx": THESIS}


# ------------------------------------------------------------------ symlinks
def test_a_symlinked_output_name_is_not_written_through(tmp_path):
    victim = tmp_path / "victim.xlsx"
    victim.write_bytes(THESIS)
    out = tmp_path / "o"
    assert run("plan", TINY, "--out", out, "--days", "2").exit_code == 0
    (out / "plan.xlsx").unlink()
    (out / "plan.xlsx").symlink_to(victim)
    r = run("plan", TINY, "--out", out, "--days", "2", "--force")
    refused(r, "plan.xlsx is a symlink, which labopt does not write")
    assert "not listed" not in r.output  # it is listed: labopt wrote a file of that name
    assert victim.read_bytes() == THESIS and (out / "plan.xlsx").is_symlink()


def test_a_symlinked_folder_inside_is_not_written_through(tmp_path, inputs):
    out = tmp_path / "batch"
    r = run(
        "batch", "make", inputs / "samples.csv", "-a", "D2", "-c", "5", "--out", out, "--map", "png"
    )
    assert r.exit_code == 0, r.output
    elsewhere = tmp_path / "elsewhere"
    (out / "plate_maps").rename(elsewhere)
    (out / "plate_maps").symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(elsewhere)
    r = run(
        "batch", "decode", out, results_for(out, tmp_path / "r.csv", positive=True), "--map", "png"
    )
    refused(r, "plate_maps is a symlink")
    assert snapshot(elsewhere) == before


def test_a_marker_cannot_name_files_outside_the_folder(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(THESIS)
    out = tmp_path / "o"
    out.mkdir()
    (out / MARKER).write_text(
        json.dumps({"written_by": "labopt", "files": ["../victim.txt", str(victim), "a/../b"]})
    )
    r = run("plan", TINY, "--out", out, "--days", "2")
    assert r.exit_code == 0, r.output
    assert victim.read_bytes() == THESIS
    assert "../victim.txt" not in read_marker(out)


def test_a_symlinked_marker_is_not_trusted(tmp_path):
    fake = tmp_path / "fake.json"
    fake.write_text(json.dumps({"written_by": "labopt", "files": ["thesis.docx"]}))
    out = tmp_path / "o"
    out.mkdir()
    (out / "thesis.docx").write_bytes(THESIS)
    (out / MARKER).symlink_to(fake)
    refused(run("plan", TINY, "--out", out, "--force"), MARKER, "symlink")
    assert (out / "thesis.docx").read_bytes() == THESIS


def test_the_output_folder_itself_may_be_a_symlink(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "thesis.docx").write_bytes(THESIS)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    assert run("plan", TINY, "--out", link, "--days", "2", "--force").exit_code == 0
    assert link.is_symlink() and (real / "plan.xlsx").is_file()
    assert (real / "thesis.docx").read_bytes() == THESIS
    assert run("plan", TINY, "--out", link, "--days", "2").exit_code == 0
    assert link.is_symlink()


# ------------------------------------------------------------------ one workbook
def test_a_workbook_is_replaced_only_with_force(tmp_path):
    book = tmp_path / "s.xlsx"
    book.write_bytes(THESIS)
    refused(run("scenario", "convert", TINY, book), "already exists", "--force")
    assert book.read_bytes() == THESIS
    assert run("scenario", "convert", TINY, book, "--force").exit_code == 0
    assert book.read_bytes()[:2] == b"PK"
    link = tmp_path / "l.xlsx"
    link.symlink_to(book)
    refused(
        run("synth", "--districts", "12", "--labs", "5", "--out", link, "--force"),
        "not a regular file",
    )
    assert link.is_symlink()


# ------------------------------------------------------------------ failures
def failing_writer(path: Path) -> None:
    path.write_text("half")
    raise OSError("disk full")


@pytest.mark.parametrize("user_file", [False, True])
def test_a_failure_while_writing_leaves_the_old_output(tmp_path, monkeypatch, user_file):
    """Swapped (only labopt's files) or written in place (a user's file there): the same."""
    out = tmp_path / "o"
    assert run("plan", TINY, "--out", out, "--days", "2").exit_code == 0
    if user_file:
        (out / "thesis.docx").write_bytes(THESIS)
    before = snapshot(out)
    from labopt.schedule import output

    monkeypatch.setitem(
        output.CHARTS, "lab_utilisation.png", lambda rep, path, lang: failing_writer(path)
    )
    r = run("plan", TINY, "--out", out, "--days", "3")
    refused(r, "disk full")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [MARKER]


@pytest.mark.parametrize("forks", [True, False])
def test_a_failure_in_the_workbook_writer_leaves_the_old_output(tmp_path, monkeypatch, forks):
    """plan.xlsx is written in a child process beside the other files where the machine can
    fork: its error reaches the user as it would in turn, and nothing is half-written."""
    monkeypatch.setattr(files, "_can_fork", lambda: forks)
    out = tmp_path / "o"
    assert run("plan", TINY, "--out", out, "--days", "2").exit_code == 0
    before = snapshot(out)
    monkeypatch.setattr(
        "labopt.schedule.output.write_xlsx", lambda path, named, **_: failing_writer(path)
    )
    r = run("plan", TINY, "--out", out, "--days", "3")
    refused(r, "disk full")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_a_child_writer_is_stopped_when_the_parent_fails(tmp_path, monkeypatch):
    """Another file's writer fails while the child still writes: the child is stopped and
    reaped before the staging folder is removed, so nothing is left behind."""
    monkeypatch.setattr(files, "_can_fork", lambda: True)
    started = tmp_path / "started"

    def slow(path):
        started.write_text("x")
        time.sleep(60)
        path.write_text("late")

    def failing(path):
        while not started.exists():
            pass
        failing_writer(path)

    pids = []
    fork = os.fork

    def recorded_fork():
        pid = fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recorded_fork)
    out = tmp_path / "o"
    t0 = time.monotonic()
    with pytest.raises(OSError, match="disk full"):
        write_output_folder(out, {"big.xlsx": Beside(slow), "a.csv": failing})
    assert time.monotonic() - t0 < 30  # the child was not waited for
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["started"]
    assert len(pids) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(pids[0], os.WNOHANG)  # stopped and reaped already


@pytest.mark.parametrize("forks", [True, False])
def test_child_writers_write_what_they_would_in_turn(tmp_path, monkeypatch, forks):
    monkeypatch.setattr(files, "_can_fork", lambda: forks)
    out = tmp_path / "o"
    made = write_output_folder(
        out,
        {
            "sub/x.txt": Beside(lambda p: p.write_text("x" * 200_000)),
            "y.txt": Beside(lambda p: p.write_text("y")),
            "z.txt": lambda p: p.write_text("z"),
        },
    )
    assert sorted(made) == [out / "sub/x.txt", out / "y.txt", out / "z.txt"]
    assert (out / "sub" / "x.txt").read_text() == "x" * 200_000
    assert (out / "y.txt").read_text() == "y" and (out / "z.txt").read_text() == "z"
    assert read_marker(out) == {"sub/x.txt", "y.txt", "z.txt"}


def test_a_workbook_is_written_in_turn_when_no_child_can_be_made(tmp_path, monkeypatch):
    """fork failing (no process to spare), or children reaped by the system (SIGCHLD
    ignored, so no exit status to read): the file is written in the process itself."""
    import signal

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(files, "_can_fork", lambda: True)
    monkeypatch.setattr(os, "fork", no_fork)
    write_output_folder(tmp_path / "a", {"x.xlsx": Beside(lambda p: p.write_text("x"))})
    assert (tmp_path / "a" / "x.xlsx").read_text() == "x"
    monkeypatch.undo()
    old = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        assert not files._can_fork()
        r = run("plan", TINY, "--out", tmp_path / "b", "--days", "2")
    finally:
        signal.signal(signal.SIGCHLD, old)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "b" / "plan.xlsx").stat().st_size > 0


def test_an_unpicklable_error_in_a_child_is_reported_by_its_text(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_can_fork", lambda: True)

    class Odd(Exception):
        def __reduce__(self):
            raise TypeError("cannot pickle")

    def fails(path):
        raise Odd("the sheet is too wide")

    with pytest.raises(RuntimeError, match="Odd: the sheet is too wide"):
        write_output_folder(tmp_path / "o", {"a.xlsx": Beside(fails)})
    assert not (tmp_path / "o").exists()


def test_library_keep_old_and_stale_files(tmp_path):
    out = tmp_path / "o"
    write_output_folder(
        out, {"a.csv": lambda p: p.write_text("1"), "maps/run1/x.png": lambda p: p.write_text("x")}
    )
    (out / "mine.txt").write_text("mine")
    write_output_folder(
        out,
        {"a.csv": lambda p: p.write_text("2"), "maps/run2/x.png": lambda p: p.write_text("y")},
        keep_old=True,
    )
    assert read_marker(out) == {"a.csv", "maps/run1/x.png", "maps/run2/x.png"}
    write_output_folder(out, {"a.csv": lambda p: p.write_text("3")})
    assert snapshot(out) == {
        "a.csv": b"3",
        "mine.txt": b"mine",
        MARKER: (out / MARKER).read_bytes(),
    }
    assert not (out / "maps").exists()  # labopt's stale files removed
    with pytest.raises(OutputFolderError, match=r"mine\.txt was not written by labopt"):
        write_output_folder(out, {"mine.txt": lambda p: p.write_text("x")}, force=True)
    assert (out / "mine.txt").read_text() == "mine"


def test_a_large_folder_is_refused_naming_a_few_of_its_files(tmp_path):
    home = tmp_path / "home"
    for i in range(3):
        (home / f"project{i}" / "src").mkdir(parents=True)
        for j in range(50):
            (home / f"project{i}" / "src" / f"f{j}.py").write_text("x")
    (home / ".bashrc").write_text("x")
    r = run("synth", "--districts", "12", "--labs", "5", "--out", home)
    refused(r, "'.bashrc'", ", ...", "not a labopt output folder")
    assert r.output.count("project") <= 5
    assert not (home / MARKER).exists() and not (home / "labs.csv").exists()


def test_a_failed_swap_puts_the_old_output_back(tmp_path, monkeypatch):
    out = tmp_path / "o"
    write_output_folder(out, {"a.csv": lambda p: p.write_text("old")})
    real_rename = Path.rename

    def rename(self, target):
        if Path(target) == out and self.name.startswith(".o.") and ".old." not in self.name:
            raise OSError("device busy")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="device busy"):
        write_output_folder(out, {"a.csv": lambda p: p.write_text("new")})
    assert (out / "a.csv").read_text() == "old" and read_marker(out) == {"a.csv"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_batch_tables_lists_every_table_a_batch_writes(tmp_path, inputs):
    from labopt.lab.batch import BATCH_TABLES, LabBatch

    out = tmp_path / "batch"
    assert (
        run("batch", "make", inputs / "samples.csv", "-a", "D2", "-c", "5", "--out", out).exit_code
        == 0
    )
    assert set(LabBatch.load(out).tables()) <= set(BATCH_TABLES)


def test_decode_never_drops_columns_added_to_its_manifest(tmp_path, inputs):
    """A batch's manifest.csv with a column added by hand is not rewritten in place (the
    column would be lost), marker or not; --out elsewhere is fine."""
    out = tmp_path / "batch"
    assert (
        run("batch", "make", inputs / "samples.csv", "-a", "D2", "-c", "5", "--out", out).exit_code
        == 0
    )
    manifest = pd.read_csv(out / "manifest.csv", dtype=str, keep_default_na=False)
    manifest["notes"] = "kept cold"
    manifest.to_csv(out / "manifest.csv", index=False)
    before = snapshot(out)
    res = results_for(out, tmp_path / "r.csv")
    for extra in ([], ["--force"]):
        refused(run("batch", "decode", out, res, *extra), "manifest.csv", "'notes'", "--out")
    assert snapshot(out) == before
    r = run("batch", "decode", out, res, "--out", tmp_path / "next")
    assert r.exit_code == 0, r.output
    assert snapshot(out) == before


# ------------------------------------------------------------------ outputs onto inputs
@pytest.mark.parametrize("where", ["same", "inside", "holds"])
def test_plan_never_writes_over_the_scenario_it_reads(tmp_path, where):
    conv = tmp_path / "conv"
    assert run("scenario", "convert", TINY, conv).exit_code == 0
    before = snapshot(conv)
    out = {"same": conv, "inside": conv / "plan", "holds": tmp_path}[where]
    for extra in ([], ["--force"]):
        refused(
            run("plan", conv, "--out", out, "--days", "2", *extra),
            "the input",
            str(conv),
            "outside the input",
        )
    assert snapshot(conv) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conv"]


def test_synth_then_plan_into_it_is_refused(tmp_path):
    s = tmp_path / "s"
    assert (
        run("synth", "--districts", "12", "--labs", "5", "--days", "2", "--out", s).exit_code == 0
    )
    before = snapshot(s)
    refused(run("plan", s, "--out", s, "--days", "2"), "the input")
    refused(run("scenario", "convert", s, s, "--force"), "TARGET", "the input")
    assert snapshot(s) == before
    book = tmp_path / "x.xlsx"
    assert run("scenario", "convert", s, book).exit_code == 0
    kept = book.read_bytes()
    refused(run("scenario", "convert", book, book, "--force"), "the input")
    assert book.read_bytes() == kept


def test_estimate_and_decode_never_write_over_their_inputs(tmp_path, inputs):
    before = snapshot(inputs)
    refused(run("estimate", inputs / "first_stage.csv", "--out", inputs), "the input")
    refused(run("estimate", inputs, "--out", inputs / "est"), "the input")
    refused(
        run(
            "batch",
            "make",
            inputs / "samples.csv",
            "-a",
            "D2",
            "-c",
            "5",
            "--out",
            inputs,
            "--force",
        ),
        "the input",
    )
    batch = tmp_path / "batch"
    assert (
        run(
            "batch", "make", inputs / "samples.csv", "-a", "D2", "-c", "5", "--out", batch
        ).exit_code
        == 0
    )
    res = results_for(batch, tmp_path / "r.csv")
    kept = snapshot(batch)
    refused(run("batch", "decode", batch, res, "--out", batch / "next"), "--out", "the input")
    refused(run("batch", "decode", batch, res, "--out", tmp_path), "--out", "the input")
    assert snapshot(inputs) == before and snapshot(batch) == kept


def test_a_folder_of_another_kind_is_not_replaced(tmp_path, inputs):
    """A scenario folder is not replaced by a plan, nor a plan folder by a scenario; with
    --force labopt writes beside the other kind's files and keeps them."""
    scen = tmp_path / "scen"
    assert run("scenario", "convert", TINY, scen).exit_code == 0
    assert json.loads((scen / MARKER).read_text())["kind"] == "scenario"
    before = snapshot(scen)
    refused(
        run("plan", TINY, "--out", scen, "--days", "2"),
        "scenario folder",
        "not a plan folder",
        "--force",
    )
    assert snapshot(scen) == before
    r = run("plan", TINY, "--out", scen, "--days", "2", "--force")
    refused(r, "labs.csv was not written by labopt")  # the plan's labs.csv would clash
    assert snapshot(scen) == before
    plan = tmp_path / "plan"
    assert run("plan", TINY, "--out", plan, "--days", "2").exit_code == 0
    kept = snapshot(plan)
    refused(run("scenario", "convert", TINY, plan), "plan folder", "not a scenario folder")
    refused(run("estimate", inputs / "first_stage.csv", "--out", plan), "plan folder")
    assert snapshot(plan) == kept


def test_a_marker_without_kind_is_told_by_its_files(tmp_path):
    """A marker written before kinds were recorded: a scenario folder is still refused."""
    scen = tmp_path / "scen"
    assert run("scenario", "convert", TINY, scen).exit_code == 0
    marker = json.loads((scen / MARKER).read_text())
    del marker["kind"]
    (scen / MARKER).write_text(json.dumps(marker))
    before = snapshot(scen)
    refused(run("plan", TINY, "--out", scen, "--days", "2"), "scenario folder")
    assert snapshot(scen) == before


# ------------------------------------------------------------------ symlinked --out
def test_a_symlinked_out_follows_the_non_empty_rule(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "mine.txt").write_bytes(THESIS)
    lnk = tmp_path / "lnk"
    lnk.symlink_to(real, target_is_directory=True)
    refused(
        run("plan", TINY, "--out", lnk, "--days", "2"), "not a labopt output folder", "mine.txt"
    )
    assert snapshot(real) == {"mine.txt": THESIS} and not (real / MARKER).exists()


# ------------------------------------------------------------------ permissions
@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("command", COMMANDS)
def test_new_folders_and_files_get_the_umasks_modes(tmp_path, inputs, umask022, command):
    args, written = COMMANDS[command]
    out = tmp_path / "o"
    assert run(*args(inputs, out)).exit_code == 0
    assert mode(out) == 0o755
    assert mode(out / written) == 0o644 and mode(out / MARKER) == 0o644
    if command != "batch make":
        assert run(*args(inputs, out)).exit_code == 0  # swapped: still the same modes
        assert mode(out) == 0o755 and mode(out / MARKER) == 0o644


def test_a_replaced_folder_and_file_keep_their_modes(tmp_path, umask022):
    out = tmp_path / "o"
    assert run("plan", TINY, "--out", out, "--days", "2").exit_code == 0
    os.chmod(out, 0o2775)
    os.chmod(out / "summary.json", 0o664)
    assert run("plan", TINY, "--out", out, "--days", "2").exit_code == 0  # swapped
    assert mode(out) == 0o2775 and mode(out / "summary.json") == 0o664
    (out / "notes.txt").write_text("mine")
    os.chmod(out / "summary.json", 0o640)
    assert run("plan", TINY, "--out", out, "--days", "2").exit_code == 0  # in place
    assert mode(out) == 0o2775 and mode(out / "summary.json") == 0o640


def test_a_new_folder_in_a_shared_setgid_folder_stays_setgid(tmp_path, umask022):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o2775)
    assert run("plan", TINY, "--out", shared / "p", "--days", "2").exit_code == 0
    assert mode(shared / "p") == 0o2755


def test_a_workbook_gets_the_umasks_mode_or_keeps_its_old_one(tmp_path, umask022):
    book = tmp_path / "x.xlsx"
    assert run("scenario", "convert", TINY, book).exit_code == 0
    assert mode(book) == 0o644
    os.chmod(book, 0o660)
    assert run("scenario", "convert", TINY, book, "--force").exit_code == 0
    assert mode(book) == 0o660


# ------------------------------------------------------------------ --out .
def test_out_dot_in_an_output_folder_keeps_the_working_folder(tmp_path):
    out = tmp_path / "o"
    assert run("plan", TINY, "--out", out, "--days", "2").exit_code == 0
    inode = out.stat().st_ino
    r = run("plan", TINY, "--out", ".", "--days", "2", cwd=out)
    assert r.exit_code == 0, r.output
    assert out.stat().st_ino == inode and (out / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]
    sub = out / "sub"
    sub.mkdir()
    r = run("plan", TINY, "--out", "..", "--days", "2", cwd=sub)  # holds the working folder
    assert r.exit_code == 0, r.output
    assert out.stat().st_ino == inode and sub.is_dir()


@pytest.mark.parametrize("forks", [True, False])
def test_meanwhile_runs_after_the_children_start_and_before_the_files_in_turn(
    tmp_path, monkeypatch, forks
):
    """The parent's own work (the plan's independent check) overlaps the children's and comes
    before the files written in turn, which may record its result."""
    monkeypatch.setattr(files, "_can_fork", lambda: forks)
    order = []
    started = tmp_path / "started"

    def beside(path):
        started.write_text("x")
        path.write_text("b")

    def meanwhile():
        if forks:  # the child runs while the parent works: wait for its first file
            deadline = time.monotonic() + 30
            while not started.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        order.append(("meanwhile", started.exists()))

    def in_turn(path):
        order.append(("in turn", None))
        path.write_text("a")

    out = tmp_path / "o"
    write_output_folder(out, {"b.xlsx": Beside(beside), "a.json": in_turn}, meanwhile=meanwhile)
    assert order == [("meanwhile", forks), ("in turn", None)]
    assert (out / "a.json").read_text() == "a" and (out / "b.xlsx").read_text() == "b"


def test_a_failure_meanwhile_leaves_the_old_output_and_stops_the_children(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_can_fork", lambda: True)
    out = tmp_path / "o"
    write_output_folder(out, {"a.csv": lambda p: p.write_text("old")})
    before = snapshot(out)

    def meanwhile():
        raise RuntimeError("the check failed to run")

    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="the check failed to run"):
        write_output_folder(
            out,
            {"big.xlsx": Beside(lambda p: time.sleep(60)), "a.csv": lambda p: p.write_text("new")},
            meanwhile=meanwhile,
        )
    assert time.monotonic() - t0 < 30  # the child was stopped, not waited for
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]
