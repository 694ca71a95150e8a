"""Paths from the network stay inside the served root: real folders and real symbolic links."""

from __future__ import annotations

import os

import pytest

from ainur_cli.errors import BridgeError
from daw_bridge.paths import confine, inside


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    (root / "songs").mkdir(parents=True)
    (root / "songs" / "a.yaml").write_text("title: a\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("title: secret\n")
    os.symlink(outside / "secret.yaml", root / "link-out.yaml")
    os.symlink(outside, root / "dir-out")
    os.symlink(root / "songs" / "a.yaml", root / "link-in.yaml")
    return root, outside


def test_relative_and_absolute_paths_inside_are_resolved(tree):
    root, _ = tree
    assert confine(root, "songs/a.yaml") == (root / "songs" / "a.yaml").resolve()
    assert confine(root, str(root / "songs" / "a.yaml")) == (root / "songs" / "a.yaml").resolve()
    assert confine(root, "./songs/./a.yaml") == (root / "songs" / "a.yaml").resolve()
    assert confine(root, "not-yet/new.yaml") == (root / "not-yet" / "new.yaml").resolve()
    # A link that stays inside the root is followed.
    assert confine(root, "link-in.yaml") == (root / "songs" / "a.yaml").resolve()


@pytest.mark.parametrize("text, says", [
    ("../outside/secret.yaml", "may not contain '..'"),
    ("songs/../../outside/secret.yaml", "may not contain '..'"),
    ("songs\\..\\..\\x.yaml", "may not contain '..'"),
    ("/etc/passwd", "outside the served folder"),
    ("link-out.yaml", "outside the served folder"),
    ("dir-out/secret.yaml", "outside the served folder"),
    ("", "is empty"),
    ("   ", "is empty"),
    ("songs/a.yaml\x00.txt", "not a usable path"),
    ("a" * 5000, "not a usable path"),
])
def test_escapes_are_refused_naming_value_and_rule(tree, text, says):
    root, _ = tree
    with pytest.raises(BridgeError) as e:
        confine(root, text, what="spec path")
    msg = e.value.format()
    assert says in msg and "spec path" in msg and "allowed: a path inside" in msg


def test_non_text_is_refused(tree):
    root, _ = tree
    with pytest.raises(BridgeError, match="is empty"):
        confine(root, 42)  # type: ignore[arg-type]


def test_inside(tree):
    root, outside = tree
    assert inside(root, root / "songs")
    assert inside(root, root)
    assert not inside(root, outside)
    assert not inside(root, root / "dir-out" / "secret.yaml")
