"""The command line: exit codes, one-line messages, nothing written on bad input."""

import json

import pytest


from conftest import FIXTURES


def test_validate_ok(run):
    result = run("validate", FIXTURES / "small.yaml", FIXTURES / "sections.yaml")
    assert result.exit_code == 0
    assert "small.yaml: ok (3 exercises)" in result.output


@pytest.mark.parametrize("command", ["validate", "plan", "build"])
def test_bad_routine_is_one_line_exit_2(run, tmp_path, command):
    args = [command, FIXTURES / "bad-negative-hold.yaml"]
    if command == "build":
        args += ["-o", tmp_path / "out"]
    result = run(*args)
    assert result.exit_code == 2
    assert result.output.strip() == (f'{FIXTURES / "bad-negative-hold.yaml"}:6: '
                                     'exercises[1].hold: "-5s" is not a positive duration')
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_unknown_key_suggests(run):
    result = run("validate", FIXTURES / "bad-unknown-key.yaml")
    assert result.exit_code == 2
    assert result.output.strip().endswith("exercises[0].hodl: unknown key (did you mean `hold`?)")


def test_build_with_one_bad_file_writes_nothing(run, tmp_path):
    result = run("build", FIXTURES / "small.yaml", FIXTURES / "bad-unknown-key.yaml",
                 "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()


def test_missing_file(run):
    result = run("validate", "nope.yaml")
    assert result.exit_code == 2
    assert result.output.strip() == "nope.yaml: no such file"


def test_plan_json_and_table(run):
    result = run("plan", FIXTURES / "small.yaml", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["title"] == "Test Stretches"
    assert data["chapters"][-1]["end_ms"] == data["duration_ms"]
    assert {s["kind"] for s in data["segments"]} == {"speech", "tone", "silence"}
    table = run("plan", FIXTURES / "small.yaml")
    assert table.exit_code == 0
    assert "Side Bend" in table.output and "hold 3s (left side, set 1, rep 1)" in table.output
    assert table.output.strip().splitlines()[-1].startswith("total ")


def test_build_prints_where_and_quiet_prints_nothing(run, tmp_path):
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'small.mp3'}" in result.output
    assert (tmp_path / "small.mp3").stat().st_size > 10_000
    quiet = run("build", FIXTURES / "small.yaml", "-o", tmp_path, "-q")
    assert quiet.exit_code == 0 and quiet.output == ""


def test_bad_option_values(run, tmp_path):
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path, "--bitrate", "5")
    assert result.exit_code == 2 and "5 is not in the range 32<=x<=320" in result.output
    assert not list(tmp_path.iterdir())


def test_unknown_engine_is_input_error(run, write_routine):
    path = write_routine("title: T\nvoice: {engine: nosuch}\nexercises:\n  - name: A\n")
    result = run("plan", path)
    assert result.exit_code == 2
    assert result.output.strip() == (f"{path}: unknown speech engine `nosuch` "
                                     "(available: piper, gtts, espeak)")
    assert run("validate", path).exit_code == 2


def test_wrong_language_for_voice(run, write_routine):
    path = write_routine("title: T\nlanguage: de\nexercises:\n  - name: A\n")
    result = run("plan", path)
    assert result.exit_code == 2
    assert "language is `de` but piper voice en_US-joe-medium speaks en_US" in result.output


def test_a_bad_voice_in_the_second_file_writes_nothing(run, write_routine, tmp_path):
    bad = write_routine("title: T\nvoice: {engine: nosuch}\nexercises:\n  - name: A\n", "b.yaml")
    result = run("build", FIXTURES / "small.yaml", bad, "-o", tmp_path / "out")
    assert result.exit_code == 2 and str(bad) in result.output
    assert not (tmp_path / "out").exists()


def test_unreadable_output_folder(run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("build", FIXTURES / "small.yaml", "-o", blocker / "sub", "-q")
    assert result.exit_code == 1
    assert result.output == f"cannot write to {blocker / 'sub'} (Not a directory)\n"


def test_module_entry_point(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "routinecast", "validate",
                           str(FIXTURES / "bad-unknown-key.yaml")], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "did you mean `hold`?" in done.stderr


def test_the_command_ends_without_teardown_but_with_its_exit_handlers(tmp_path):
    """`routinecast` skips the interpreter's teardown (`__main__._exit`: an object's `__del__`
    is not run) after running what exit handlers would: a temp folder left to its finalizer
    is removed, a handler runs, the streams are flushed and the status is the command's. It leans on CPython's private
    `atexit._run_exitfuncs`: this test fails the day it goes."""
    import atexit
    import subprocess
    import sys

    assert callable(getattr(atexit, "_run_exitfuncs", None))
    script = (
        "import atexit, sys, tempfile, pathlib\n"
        "folder = sys.argv[1]\n"
        "left = tempfile.TemporaryDirectory(dir=folder)\n"
        "atexit.register(lambda: pathlib.Path(folder, 'handled').write_text('yes'))\n"
        "class Torn:\n"  # what the teardown would do: not done
        "    def __del__(self): pathlib.Path(folder, 'torn down').write_text('')\n"
        "torn = Torn()\n"
        "print('out', end='')\n"  # unflushed unless the exit flushes it
        "sys.argv = ['routinecast', 'validate', sys.argv[2]]\n"
        "from routinecast.__main__ import main\n"
        "main()\n")
    for routine, code in ((FIXTURES / "small.yaml", 0), (FIXTURES / "bad-unknown-key.yaml", 2)):
        folder = tmp_path / str(code)
        folder.mkdir()
        done = subprocess.run([sys.executable, "-c", script, str(folder), str(routine)],
                              capture_output=True, text=True)
        assert done.returncode == code
        assert done.stdout.startswith("out") and "Traceback" not in done.stderr
        assert [p.name for p in folder.iterdir()] == ["handled"]  # the temp folder went


@pytest.mark.parametrize("where", ["parse_args", "close"])
def test_a_ctrl_c_while_click_parses_or_closes_is_an_interruption(run, monkeypatch, where):
    """click itself ends a Ctrl-C outside a command with "Aborted!" and exit 1."""
    import click

    target = click.Command if where == "parse_args" else click.Context
    original = getattr(target, where)
    calls = []

    def interrupted(*args, **kwargs):  # the one Ctrl-C, at the last such call
        calls.append(1)
        if where == "parse_args" or len(calls) == 2:  # the group's context closes second
            raise KeyboardInterrupt
        return original(*args, **kwargs)
    monkeypatch.setattr(target, where, interrupted)
    result = run("validate", FIXTURES / "small.yaml")
    assert result.exit_code == 130
    assert result.stderr.strip() == "interrupted"


def test_click_usage_errors_and_exits_keep_their_status(run):
    assert run("validate", "--no-such-option").exit_code == 2
    assert run("--version").exit_code == 0
    assert run("validate", FIXTURES / "small.yaml").exit_code == 0


def test_the_entry_point_knows_the_interrupted_status_before_importing_anything():
    from routinecast import __main__, errors

    assert __main__.EXIT_INTERRUPTED == errors.EXIT_INTERRUPTED
