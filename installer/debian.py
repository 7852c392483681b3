"""Helpers of installer/build.sh for the Debian package: slimming the bundle, its Depends.

``python installer/debian.py strip-debug BUNDLE``
    Removes debug information (not symbols) from the ELF files that carry it (a Python
    built with ``-g`` ships a 20 MB libpython). Files that carry none are left alone:
    re-writing libraries that auditwheel patched breaks them.
``python installer/debian.py depends BUNDLE``
    Prints the package's ``Depends`` value: every library an ELF file in the bundle links
    to that the bundle does not hold itself is looked up (``ldconfig -p``) and mapped to
    the Debian package that ships it (``dpkg -S``); libc6 gets the newest glibc symbol
    version referenced. A library that cannot be found fails the build, so a bundle that
    would not start on a machine like this one is never packaged.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

ELF_MAGIC = b"\x7fELF"

# Loaded with dlopen() by Qt, so no ELF file names them: the GL/EGL loaders (the xcb GL
# integrations and QtOpenGL link them, but only when present), the X keyboard tables.
ALWAYS = ["libgl1", "libegl1", "libxkbcommon-x11-0", "libxcb-cursor0", "xkb-data"]


def _tool(name: str) -> str:
    return shutil.which(name) or f"/usr/bin/{name}"


def elf_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as fh:
                if fh.read(4) == ELF_MAGIC:
                    yield path


def _run(args: list[str]) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=False).stdout  # noqa: S603


def strip_debug(root: Path) -> list[Path]:
    stripped = []
    for path in elf_files(root):
        if ".debug_info" in _run([_tool("objdump"), "-h", str(path)]):
            subprocess.run([_tool("strip"), "--strip-debug", str(path)], check=True)  # noqa: S603
            stripped.append(path)
    return stripped


def linked_libraries(files: Iterable[Path]) -> tuple[set[str], str | None]:
    """The NEEDED names of ``files`` and the newest ``GLIBC_x.y`` version they reference."""
    needed: set[str] = set()
    glibc: tuple[int, ...] = ()
    for path in files:
        out = _run([_tool("objdump"), "-p", "-T", str(path)])
        needed.update(re.findall(r"^\s*NEEDED\s+(\S+)", out, flags=re.MULTILINE))
        for version in re.findall(r"\bGLIBC_(\d+(?:\.\d+)+)\b", out):
            glibc = max(glibc, tuple(int(x) for x in version.split(".")))
    return needed, ".".join(map(str, glibc)) if glibc else None


def system_library_paths() -> dict[str, str]:
    """soname → path for this machine's architecture, from the dynamic linker's cache."""
    arch_tag = {"x86_64": "x86-64", "aarch64": "AArch64"}.get(os.uname().machine, "")
    paths: dict[str, str] = {}
    for line in _run([_tool("ldconfig"), "-p"]).splitlines():
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if m and (not arch_tag or arch_tag in m[2] or "," not in m[2]):
            paths.setdefault(m[1], m[3])
    return paths


def owning_package(path: str) -> str | None:
    """The Debian package that ships ``path`` (tried with and without the /usr prefix)."""
    real = os.path.realpath(path)
    candidates = []
    for p in dict.fromkeys([path, real]):
        candidates += [p, p.removeprefix("/usr")] if p.startswith("/usr/") else [p, "/usr" + p]
    for candidate in candidates:
        out = _run(["dpkg-query", "-S", candidate])
        m = re.match(r"([^:,\s]+)(:[\w-]+)?(, [^:]+)*: ", out)
        if m:
            return m[1]
    return None


def depends(root: Path) -> str:
    files = list(elf_files(root))
    bundled = {p.name for p in root.rglob("*")}
    needed, glibc = linked_libraries(files)
    system = system_library_paths()
    missing: list[str] = []
    packages: set[str] = set(ALWAYS)
    for name in sorted(needed - bundled):
        if name.startswith("ld-linux"):
            packages.add("libc6")
            continue
        path = system.get(name)
        package = owning_package(path) if path else None
        if package is None:
            missing.append(name)
        else:
            packages.add(package)
    if missing:
        raise SystemExit(f"debian.py: libraries neither bundled nor found in a Debian package: {missing}")
    parts = [f"libc6 (>= {glibc})" if p == "libc6" and glibc else p for p in sorted(packages)]
    return ", ".join(parts)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"strip-debug", "depends"}:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[1])
    if argv[0] == "strip-debug":
        stripped = strip_debug(root)
        print(f"debug info stripped from {len(stripped)} file(s)", file=sys.stderr)
    else:
        print(depends(root))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
