#!/usr/bin/env bash
# Build the one-folder bundle (PyInstaller) and the Debian package into dist/.
#
#   installer/build.sh        uses .venv/bin/python (made by scripts/setup), or $PYTHON
#
# Needs PyInstaller (a dev extra in pyproject.toml), binutils (objdump, strip) and dpkg-deb.
# The package is compressed with zstd (level 9: seconds; dpkg reads it on Debian >= 12 and
# Ubuntu >= 21.10, the releases whose libraries the bundle links to); set
# WATCHFLOOR_DEB_COMPRESSION=xz for a package about a sixth smaller that takes a minute more.
# The last lines printed are the figures: bundle size, package size, build time.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
umask 022

PY=${PYTHON:-.venv/bin/python}
COMPRESSION=${WATCHFLOOR_DEB_COMPRESSION:-zstd}
LEVEL=""
[ "$COMPRESSION" = zstd ] && LEVEL=9
export PATH="$PATH:/usr/sbin:/sbin"   # ldconfig lives there
for tool in dpkg-deb dpkg-query objdump strip ldconfig; do
  command -v "$tool" >/dev/null 2>&1 \
    || { echo "build.sh: $tool is missing (Debian packages: dpkg, binutils, libc-bin)" >&2; exit 1; }
done
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
  echo "build.sh: PyInstaller is not installed for $PY (scripts/setup installs the dev extras)" >&2
  exit 1
fi

VERSION=$("$PY" -c 'import app; print(app.__version__)')
ARCH=$(dpkg --print-architecture)
BUILD=build/installer
BUNDLE="$BUILD/bundle/watchfloor"
ROOT="$BUILD/root"
DEB="dist/watchfloor_${VERSION}_${ARCH}.deb"

echo "== bundle (PyInstaller)"
"$PY" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$BUILD/bundle" --workpath "$BUILD/work" installer/watchfloor.spec
"$PY" installer/debian.py strip-debug "$BUNDLE"
QT="$BUNDLE/_internal/PySide6/Qt/plugins/platforms"
for plugin in libqxcb.so libqoffscreen.so; do
  [ -f "$QT/$plugin" ] || { echo "build.sh: the bundle lacks the Qt platform plugin $plugin" >&2; exit 1; }
done
DEPENDS=$("$PY" installer/debian.py depends "$BUNDLE")

echo "== Debian package"
rm -rf "$ROOT"
mkdir -p "$ROOT/opt" "$ROOT/usr/bin" "$ROOT/DEBIAN"
cp -a "$BUNDLE" "$ROOT/opt/watchfloor"
ln -s ../../opt/watchfloor/watchfloor "$ROOT/usr/bin/watchfloor"   # relative: also right in a scratch root
L=installer/linux
install -D -m 644 "$L/watchfloor-wall.service" "$ROOT/usr/lib/systemd/user/watchfloor-wall.service"
install -D -m 644 "$L/watchfloor-poll.service" "$ROOT/usr/lib/systemd/user/watchfloor-poll.service"
install -D -m 755 "$L/start-wall" "$ROOT/usr/libexec/watchfloor/start-wall"
install -D -m 644 "$L/watchfloor-wall.desktop" "$ROOT/etc/xdg/autostart/watchfloor-wall.desktop"
install -D -m 644 "$L/watchfloor-kiosk.desktop" "$ROOT/usr/share/xsessions/watchfloor-kiosk.desktop"
install -D -m 644 "$L/watchfloor.desktop" "$ROOT/usr/share/applications/watchfloor.desktop"
install -D -m 644 "$L/copyright" "$ROOT/usr/share/doc/watchfloor/copyright"
install -D -m 644 docs/IT.md "$ROOT/usr/share/doc/watchfloor/IT.md"
install -d -m 755 "$ROOT/etc/watchfloor"
{
  echo "# watchfloor: the system-wide configuration of this machine."
  echo "# A user's own ~/.config/watchfloor/config.toml, \$WATCHFLOOR_CONFIG or --config"
  echo "# take precedence. Secrets are named here, never written: see IT.md."
  echo "# Shipped as the built-in demo; edit it (it is kept on upgrades)."
  echo
  cat config/demo.toml
} > "$ROOT/etc/watchfloor/config.toml"
chmod 644 "$ROOT/etc/watchfloor/config.toml"
install -m 644 "$L/conffiles" "$ROOT/DEBIAN/conffiles"
SIZE_KB=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$SIZE_KB/" \
    -e "s/@DEPENDS@/$DEPENDS/" "$L/control.in" > "$ROOT/DEBIAN/control"
chmod -R u+rwX,go+rX,go-w "$ROOT"
mkdir -p dist
rm -f "$DEB"
dpkg-deb --root-owner-group -Z"$COMPRESSION" ${LEVEL:+-z"$LEVEL"} --build "$ROOT" "$DEB" >/dev/null
dpkg-deb --info "$DEB" | sed -n '/Package:/,/Description:/p'

elapsed=$(( $(date +%s) - started ))
bundle_mb=$(du -sm "$BUNDLE" | cut -f1)
deb_mb=$(awk -v b="$(stat -c %s "$DEB")" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "bundle: $BUNDLE ${bundle_mb} MB"
echo "package: $DEB ${deb_mb} MB ($COMPRESSION)"
echo "build time: ${elapsed} s"
