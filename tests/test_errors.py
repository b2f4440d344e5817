"""Library errors speak library: a message names the setting a caller passed, and only the
command line turns it into its option."""

from pathlib import Path

import pytest

from routinecast.cli import cli_option
from routinecast.errors import InputError, setting
from routinecast.files import write_text_atomic


def test_a_setting_is_named_by_its_argument_for_a_library_caller_and_its_option_on_the_command_line():
    error = InputError(f"{setting('music_level')} -3 with {setting('duck')} 40 is too quiet",
                       "r.yaml", 3)
    assert str(error) == "r.yaml:3: `music_level` -3 with `duck` 40 is too quiet"
    assert error.render(cli_option) == "r.yaml:3: --music-level -3 with --duck 40 is too quiet"
    assert error.settings == ("music_level", "duck")


def test_an_existing_file_each_way(tmp_path, run):
    path = tmp_path / "me.yaml"
    path.write_text("x: 1\n")
    with pytest.raises(InputError) as raised:
        write_text_atomic(path, "y: 2\n", overwrite=False, make_folder=False)
    assert str(raised.value).endswith("already exists; use `overwrite` to replace it")
    assert "--force" not in str(raised.value)
    said = run("profile", "init", path)
    assert said.exit_code == 2
    assert said.stderr.strip().endswith("already exists; use --force to replace it")


def test_a_full_disk_each_way():
    from routinecast.files import cannot_write
    error = cannot_write(Path("/out/a.mp3"), OSError(28, "No space left on device"))
    assert "(`output`)" in str(error) and "(-o)" in error.render(cli_option)


def test_no_library_message_names_an_option():
    """Every option in a library error goes through `setting()`: no `--flag` or `(-o)` in
    the text of an error raised (or a message built for one) outside the command line and
    the command line's own layer of overrides."""
    import ast
    import re
    root = Path(__file__).parent.parent / "src" / "routinecast"
    allowed = {"cli.py", "overrides.py"}
    found = []
    for path in root.rglob("*.py"):
        if path.name in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            messages = []
            if isinstance(node, ast.Raise) and node.exc is not None:
                messages.append(node.exc)
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id in ("hint", "advice", "message")
                    for t in node.targets):
                messages.append(node.value)
            for message in messages:
                for part in ast.walk(message):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str) and \
                            re.search(r"(^|[\s(])--?[a-z][a-z-]*\b", part.value):
                        found.append(f"{path.relative_to(root)}:{part.lineno}: {part.value!r}")
    assert not found, "\n".join(found)
