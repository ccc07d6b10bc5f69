"""The Lambda code asset, built without Docker.

Dependencies come from `uv.lock` as prebuilt manylinux2014 aarch64 wheels for CPython 3.13
(`SOURCE_ONLY` names the pure-Python ones that publish no wheel), the same selection as
`pip install --platform manylinux2014_aarch64 --only-binary=:all: --python-version 3.13
--implementation cp -t <dir>`. uv performs the install because it is what the project already
bootstraps (a uv-made `.venv` has no pip) and it reads no machine-wide pip configuration.
Installed dependencies are cached in `.bundle-cache/`, keyed on the lock and the target
platform, so a synth reinstalls only when the lock changes; the package sources are copied fresh
on every synth, and the asset hash covers both.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
PACKAGE = FUNCTIONS / "cronbeat"
LOCK = ROOT / "uv.lock"
CACHE = ROOT / ".bundle-cache"

PYTHON_VERSION = "3.13"
PLATFORM = "aarch64-manylinux2014"
"""uv's name for pip's `--platform manylinux2014_aarch64` (glibc 2.17, arm64)."""

SOURCE_ONLY = ("oncalendar",)
"""Dependencies published only as a source distribution. They are pure Python, so building the
wheel here gives the files Lambda runs on arm64; every other dependency stays a prebuilt wheel."""

RECIPE = f"cp{PYTHON_VERSION}/{PLATFORM}/only-binary/v2/{','.join(SOURCE_ONLY)}"
"""Part of every cache key: change it when the way dependencies are installed changes."""

SKIPPED_DIRS = ("__pycache__", "tests", ".pytest_cache", ".mypy_cache", ".ruff_cache")
SKIPPED_SUFFIXES = (".pyc",)
"""Never shipped: bytecode and test leftovers."""

NOT_FOR_LAMBDA = (Path("local"), Path("cli"), Path("admin"), Path("store/sizing.py"))
"""Parts of the package that run on a workstation, never in a function: local mode, the job
wrapper and query CLI, the key tool, and the benchmarks' size rules. The stack test proves no
handler imports them."""

BUILD_IMAGE = "public.ecr.aws/sam/build-python3.13:latest-arm64"
"""Named only because CDK requires an image; the local bundler always builds the asset."""


class BundlingError(RuntimeError):
    """The dependencies could not be installed: the message says which command failed."""


def _uv() -> list[str]:
    """The uv command: `$UV` (the Makefile passes its own), uv on PATH, or `python3 -m uv`."""
    if configured := os.environ.get("UV"):
        return shlex.split(configured)
    if found := shutil.which("uv"):
        return [found]
    return ["python3", "-m", "uv"]


def shipped(relative: Path) -> bool:
    """Whether the package file at `relative` (to the package) goes into the Lambda asset."""
    if any(part in SKIPPED_DIRS for part in relative.parts):
        return False
    if relative.name.endswith(SKIPPED_SUFFIXES):
        return False
    return not any(relative == part or part in relative.parents for part in NOT_FOR_LAMBDA)


def _source_files() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and shipped(path.relative_to(PACKAGE)):
            yield path


def dependencies_key() -> str:
    """What the installed dependencies depend on: the lock and the target platform."""
    digest = hashlib.sha256(RECIPE.encode())
    digest.update(LOCK.read_bytes())
    return digest.hexdigest()[:24]


def asset_hash() -> str:
    """The asset's identity: the dependencies plus every shipped source file."""
    digest = hashlib.sha256(dependencies_key().encode())
    for path in _source_files():
        digest.update(str(path.relative_to(FUNCTIONS)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _run(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BundlingError(
            f"`{shlex.join(command)}` exited {result.returncode}:\n{result.stderr.strip()}"
        )


def _install_dependencies(target: Path) -> None:
    requirements = target.parent / "requirements.txt"
    uv = _uv()
    _run(
        [
            *uv,
            "export",
            "--frozen",
            "--no-dev",
            "--extra",
            "server",
            "--no-hashes",
            "--no-emit-project",
            "--quiet",
            "--output-file",
            str(requirements),
        ]
    )
    _run(
        [
            *uv,
            "pip",
            "install",
            "--no-config",
            "--quiet",
            "--target",
            str(target),
            "--python-platform",
            PLATFORM,
            "--python-version",
            PYTHON_VERSION,
            "--only-binary",
            ":all:",
            *(flag for name in SOURCE_ONLY for flag in ("--no-binary", name)),
            "--no-deps",
            "--requirement",
            str(requirements),
        ]
    )
    # Console scripts point at the build machine's interpreter: useless in Lambda.
    shutil.rmtree(target / "bin", ignore_errors=True)


def cached_dependencies() -> Path:
    """The installed dependencies for the current lock, installed on first use."""
    cached = CACHE / f"deps-{dependencies_key()}"
    if cached.is_dir():
        return cached
    CACHE.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="build-") as scratch:
        built = Path(scratch) / "site-packages"
        _install_dependencies(built)
        try:
            # Atomic: a concurrent synth either finds the whole directory or builds its own.
            built.rename(cached)
        except OSError:
            if not cached.is_dir():
                raise
    # Builds for earlier locks are 45 MB each and never used again.
    for stale in CACHE.glob("deps-*"):
        if stale != cached:
            shutil.rmtree(stale, ignore_errors=True)
    return cached


@jsii.implements(ILocalBundling)
class LocalBundler:
    """Assembles the asset on this machine: cached dependencies plus the `cronbeat` package."""

    def try_bundle(self, output_dir: str, *args: Any, **kwargs: Any) -> bool:
        output = Path(output_dir)
        shutil.copytree(cached_dependencies(), output, dirs_exist_ok=True)
        for source in _source_files():
            copied = output / "cronbeat" / source.relative_to(PACKAGE)
            copied.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copied)
        return True


def function_code() -> lambda_.Code:
    """One code asset for every function; each function differs only in its handler."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS),
        asset_hash=asset_hash(),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            image=DockerImage.from_registry(BUILD_IMAGE),
            local=LocalBundler(),
        ),
    )
