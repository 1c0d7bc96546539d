"""`cmake --install BUILD --component python` puts an importable package where python3 finds it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


def test_cmake_installs_the_package(tmp_path):
    build = os.environ.get("RNGPOOL_BUILD_DIR")
    if not build or not shutil.which("cmake"):
        pytest.skip("RNGPOOL_BUILD_DIR is unset (tests/python/run sets it) or there is no cmake")
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", build, "--component", "python", "--prefix", str(prefix)],
                   check=True, capture_output=True, timeout=120)
    installed = sorted(p.relative_to(prefix).as_posix() for p in prefix.rglob("*") if p.is_file())
    package_dirs = {os.path.dirname(p) for p in installed}
    assert len(package_dirs) == 1, installed
    (package,) = package_dirs
    assert {os.path.basename(p) for p in installed} == {"__init__.py", "_client.py", "_lib.py", "errors.py",
                                                         "secrets.py", "py.typed"}
    site = prefix / os.path.dirname(package)
    env = dict(os.environ, PYTHONPATH=str(site))
    code = "import rngpool, rngpool.secrets as s; print(rngpool.__file__); print(len(s.token_bytes()))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(site / "rngpool" / "__init__.py"), "32"]
