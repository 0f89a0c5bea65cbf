"""The lock files (``requirements/lock*.txt``, pip constraints that
``scripts/_setup.sh`` installs with) pin every dependency pyproject.toml
declares, each at a version its range allows, and the environment the tests
run in is the locked one."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {
    "requirements/lock.txt": ("embedded", "dev"),
    "requirements/lock-bench.txt": ("embedded", "dev", "bench"),
}


def read_lock(path: Path) -> dict[str, Version]:
    """``{canonical name: version}`` of a lock file; every line pins with ``==``."""
    pins: dict[str, Version] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"{path.name}:{number}: not a `name==version` pin: {line!r}"
        assert canonicalize_name(name) not in pins, f"{path.name}:{number}: {name} twice"
        pins[canonicalize_name(name)] = Version(version)
    return pins


def declared(extras: tuple[str, ...]) -> list[Requirement]:
    """The project's requirements with these extras, for this Python."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = list(project["dependencies"])
    for extra in extras:
        texts += project["optional-dependencies"][extra]
    requirements = [Requirement(text) for text in texts]
    return [r for r in requirements if r.marker is None or r.marker.evaluate()]


def uncovered(requirements: list[Requirement], pins: dict[str, Version]) -> list[str]:
    """What the pins miss: requirements with no pin, or pinned outside their range."""
    problems = []
    for requirement in requirements:
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement.name}: not in the lock")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{requirement.name}: locked {pinned}, needs {requirement.specifier}")
    return problems


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_lock_pins_every_declared_dependency_within_its_range(lock: str) -> None:
    pins = read_lock(ROOT / lock)
    assert uncovered(declared(LOCKS[lock]), pins) == []


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_lock_pins_the_dependencies_of_the_dependencies(lock: str) -> None:
    """Each package of the lock installed here at its locked version has its own
    requirements pinned too (one level down each, so the whole tree)."""
    pins = read_lock(ROOT / lock)
    problems = []
    for name, version in pins.items():
        try:
            if Version(metadata.version(name)) != version:
                continue  # another version's metadata says nothing of this one
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not in this environment (the bench extra, usually)
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                problems += [f"{name} -> {p}" for p in uncovered([requirement], pins)]
    assert problems == []


def test_the_tests_run_with_the_locked_versions() -> None:
    """Every package of ``lock.txt`` installed here has its locked version
    (``scripts/_setup.sh`` installs them; after an upgrade, run ``scripts/lock.sh``)."""
    drift = []
    for name, version in read_lock(ROOT / "requirements/lock.txt").items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            drift.append(f"{name}: not installed")
            continue
        if installed != version:
            drift.append(f"{name}: installed {installed}, locked {version}")
    assert drift == []


def test_a_range_outside_the_lock_is_reported() -> None:
    """The check itself: a missing pin and a pin outside its range are named."""
    pins = {"rich": Version("12.0")}
    assert uncovered([Requirement("rich>=13"), Requirement("typer>=0.12")], pins) == [
        "rich: locked 12.0, needs >=13",
        "typer: not in the lock",
    ]
