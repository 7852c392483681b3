"""What goes into the PyInstaller bundle, shared by the Linux and the Windows spec.

The wall needs QtCore, QtGui and QtWidgets (and pyqtgraph on top); everything else the
PySide6 wheel carries (QML, Quick, WebEngine, Wayland compositor, PDF, …) only makes
the bundle slower to build and larger to ship. So the specs exclude those modules,
keep only the Qt plugins a wall needs, and then drop any Qt library that nothing left
in the bundle links against. ``installer/build.sh`` checks afterwards that every ELF
file in the bundle still resolves its libraries.

This module is imported by the specs (run by PyInstaller), not by the application.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

# A TOC entry of PyInstaller's Analysis: (name in the bundle, source path, type code).
Entry = tuple[str, str, str]

REPO = Path(__file__).resolve().parent.parent

# Python modules a wall never imports (or only through optional paths we do not ship).
EXCLUDES = [
    "tkinter", "_tkinter", "turtle", "turtledemo", "idlelib", "lib2to3", "pydoc_data",
    "PyQt5", "PyQt6", "PySide2",
    # (QtOpenGL and QtOpenGLWidgets stay: pyqtgraph imports them unconditionally)
    "PySide6.QtNetwork", "PySide6.QtSvg", "PySide6.QtSvgWidgets", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2", "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebEngineQuick", "PySide6.QtWebChannel", "PySide6.QtWebSockets",
    "PySide6.QtPdf", "PySide6.QtPdfWidgets", "PySide6.QtMultimedia", "PySide6.QtCharts",
    "PySide6.QtDataVisualization", "PySide6.Qt3DCore", "PySide6.QtDesigner",
    "PySide6.QtUiTools", "PySide6.QtHelp", "PySide6.QtSql", "PySide6.QtTest",
    "PySide6.QtPrintSupport", "PySide6.QtXml", "PySide6.QtConcurrent", "PySide6.QtDBus",
    "PySide6.scripts",
    # pyqtgraph's optional parts: 3D (PyOpenGL), Jupyter, the example browser, numba/cupy
    "pyqtgraph.opengl", "pyqtgraph.jupyter", "pyqtgraph.examples", "pyqtgraph.console",
    "pyqtgraph.flowchart", "pyqtgraph.canvas", "OpenGL", "jupyter_rfb", "numba", "cupy",
    "scipy", "matplotlib", "h5py", "IPython", "colorcet", "metaarray",
    # the development tools installed beside the app
    "pytest", "_pytest", "pytestqt", "hypothesis", "mypy", "ruff", "importlinter", "yaml",
    "PyInstaller",
]  # fmt: skip

# Modules found only at run time: tiles through the entry point, sources by name.
HIDDEN_IMPORT_PACKAGES = ["app", "widgets"]

# Qt plugin folders kept, and within "platforms" the platform plugins kept.
LINUX_PLUGINS = {"platforms", "xcbglintegrations", "platforminputcontexts", "imageformats"}
WINDOWS_PLUGINS = {"platforms", "styles", "imageformats"}
LINUX_PLATFORMS = {"libqxcb.so", "libqoffscreen.so"}  # a real display, and rendering without one
WINDOWS_PLATFORMS = {"qwindows.dll", "qoffscreen.dll"}
IMAGE_FORMATS = re.compile(r"(lib)?q(jpeg|gif|ico)\.(so|dll)$")

_PLUGIN = re.compile(
    r"^PySide6[/\\]((Qt[/\\])?plugins)[/\\](?P<kind>[^/\\]+)[/\\](?P<file>[^/\\]+)$"
)


def data_folders() -> list[tuple[str, str]]:
    """The shipped data (found at run time under ``sys._MEIPASS`` by app/resources.py)."""
    return [(str(REPO / name), name) for name in ("layouts", "config", "assets")]


def keep_plugin(dest: str, *, windows: bool) -> bool:
    """True for files that are not Qt plugins, and for the plugins a wall uses."""
    m = _PLUGIN.match(dest)
    if m is None:
        return True
    kind, name = m["kind"], m["file"]
    if kind not in (WINDOWS_PLUGINS if windows else LINUX_PLUGINS):
        return False
    if kind == "platforms":
        return name in (WINDOWS_PLATFORMS if windows else LINUX_PLATFORMS)
    if kind == "imageformats":
        return IMAGE_FORMATS.search(name) is not None
    return True


def elf_needed(path: str) -> list[str]:
    """The DT_NEEDED names of an ELF file (objdump is installed wherever PyInstaller runs)."""
    objdump = shutil.which("objdump") or "/usr/bin/objdump"
    proc = subprocess.run([objdump, "-p", path], capture_output=True, text=True, check=False)  # noqa: S603
    out = proc.stdout
    return re.findall(r"^\s*NEEDED\s+(\S+)", out, flags=re.MULTILINE)


def _closure(sources: Iterable[str], libs: dict[str, str]) -> set[str]:
    """Names of the bundled libraries ``sources`` link to, directly or not."""
    seen: set[str] = set()
    todo = [name for src in sources for name in elf_needed(src)]
    while todo:
        name = todo.pop()
        if name in seen or name not in libs:
            continue
        seen.add(name)
        todo.extend(elf_needed(libs[name]))
    return seen


def prune(binaries: Iterable[Entry], datas: Iterable[Entry], *,
          windows: bool) -> tuple[list[Entry], list[Entry]]:  # fmt: skip
    """The Analysis' binaries and data without the unused Qt plugins and what only they need.

    PyInstaller collected the libraries of every plugin (QtSvg for the SVG plugins, GTK
    for the GTK theme, QtWaylandClient, …) before the plugins are filtered here. A library
    goes only if a dropped plugin links to it and nothing kept does (on Linux, where the
    links are read from the ELF files; on Windows the excludes alone decide). Symbolic
    links PyInstaller made to a dropped file go with it.
    """
    binaries, datas = list(binaries), list(datas)
    dropped = [e for e in binaries if not keep_plugin(e[0], windows=windows)]
    drop = {e[0] for e in dropped}
    if sys.platform == "linux":
        libs = {Path(dest).name: src for dest, src, kind in binaries
                if kind == "BINARY" and dest not in drop}  # fmt: skip
        candidates = _closure((src for _, src, _ in dropped), libs)
        rest = [src for dest, src, kind in binaries if dest not in drop
                and Path(dest).name not in candidates and kind != "SYMLINK"]  # fmt: skip
        still_needed = _closure(rest, libs) & candidates
        drop |= {dest for dest, _, _ in binaries if Path(dest).name in candidates - still_needed}

    def kept(entry: Entry) -> bool:
        dest, src, kind = entry
        if kind == "SYMLINK":
            target = str(Path(dest).parent / src)
            return target not in drop and src not in drop
        return dest not in drop and keep_plugin(dest, windows=windows)

    kept_datas = [e for e in datas if kept(e)
                  and not e[0].startswith(("PySide6/Qt/translations", "PySide6\\translations"))]  # fmt: skip
    return [e for e in binaries if kept(e)], kept_datas
