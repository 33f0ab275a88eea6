"""Dependency floors and the image's lock: what the code relies on is required, and the lock obeys it.

pyproject.toml says which versions work; ops/constraints.txt (ops/lock.sh) pins the ones the image
installs. A pin outside a range, or a dependency without a pin, would build an image nobody tested.
"""

from __future__ import annotations

import inspect
import tomllib
from importlib.metadata import distribution

from kombu.transport import redis as kombu_redis
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from workers.runtime import kombu_fix
from workers.settings import PROJECT_ROOT

CONSTRAINTS = PROJECT_ROOT / "ops" / "constraints.txt"


def _requirements() -> list[Requirement]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(line) for line in project["dependencies"]]


def _pins() -> dict[str, Version]:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line!r}"
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_the_lock_pins_every_dependency_within_its_range():
    pins = _pins()
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not pinned in ops/constraints.txt (run ops/lock.sh)"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} not in {requirement}"


def _needed(requirements: list[Requirement]) -> set[str]:
    """Every distribution the requirements pull in (extras and this platform's markers followed)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = list(requirements)
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        extras = requirement.extras or {""}
        for line in distribution(requirement.name).requires or []:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate({"extra": extra}) for extra in extras):
                todo.append(sub)
    return {name for name, _ in seen}


def test_the_lock_pins_what_the_dependencies_pull_in():
    # A dependency added to pyproject.toml without running ops/lock.sh leaves its own dependencies
    # unpinned in the image.
    assert _needed(_requirements()) - set(_pins()) == set()


def test_the_image_installs_through_the_lock():
    dockerfile = (PROJECT_ROOT / "ops" / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY ops/constraints.txt" in dockerfile
    assert "pip install --constraint ops/constraints.txt ." in dockerfile


def test_floors_cover_what_the_code_relies_on():
    floors = {canonicalize_name(r.name): r.specifier for r in _requirements()}
    # worker_soft_shutdown_timeout / worker_enable_soft_shutdown_on_idle came with Celery 5.5.
    assert not floors["celery"].contains("5.4.9") and floors["celery"].contains("5.5.0")
    # unacked_restore_interval/_throttle came with kombu 5.7; kombu_fix is checked against 5.7 only.
    assert not floors["kombu"].contains("5.6.2") and not floors["kombu"].contains("5.8.0")


def test_kombu_still_has_what_kombu_fix_patches():
    # workers/runtime/kombu_fix.py wraps this private method and reads channel.connection.client.
    parameters = inspect.signature(kombu_fix._original).parameters  # kombu's own, patched or not
    assert list(parameters) == ["self", "asynchronous"]
    assert "unacked_restore_interval" in kombu_redis.Channel.from_transport_options
    assert "unacked_restore_throttle" in kombu_redis.Channel.from_transport_options
    # The Sentinel channel inherits the patched method (it does not override it).
    assert "_connparams" not in vars(kombu_redis.SentinelChannel)
