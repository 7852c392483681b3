"""A room set up from nothing, exactly as docs/IT.md tells IT to: the test runs the page.

The shell blocks, SQL, server settings and configs are read out of docs/IT.md and run
against a throwaway PostgreSQL on loopback with the room's own addresses put in (the
server's name, its port, the room's network, where the files lie): the certificates made
with the page's openssl lines, ``pg_hba.conf`` from its lines, the roles and database from
its SQL, ``room init``, the four machines' configs checked by ``doctor``, two hubs, a wall
PC that is no hub, a backup with ``pg_dump`` restored as the page says, and an upgrade.
A step that fails here fails for IT too; a page that changes is tested as changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.room import cluster as pg
from tests.room import procs
from tests.room.conftest import demo_source, need_postgres, wait_until

ROOT = Path(__file__).resolve().parents[2]
IT = ROOT / "docs" / "IT.md"
README = ROOT / "README.md"


# -- reading the page ------------------------------------------------------------------


def section(text: str, heading: str) -> str:
    """The text under ``heading`` (a ``#`` line) up to the next heading of its level or above.

    A ``#`` line inside a fenced block is a shell comment, no heading.
    """
    level = len(heading) - len(heading.lstrip("#"))
    lines = text.splitlines(keepends=True)
    start = lines.index(heading + "\n")
    fenced = False
    for n in range(start + 1, len(lines)):
        line = lines[n]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(rf"#{{1,{level}}} ", line):
            return "".join(lines[start:n])
    return "".join(lines[start:])


def blocks(text: str) -> list[tuple[str, str]]:
    """The fenced code blocks of ``text`` as (language, body), indented ones dedented."""
    found = re.findall(r"^( *)```(\w*)\n(.*?)^\1```", text, re.M | re.S)
    return [(lang, textwrap.dedent(body)) for _, lang, body in found]


def the_block(text: str, lang: str, holding: str) -> str:
    """The one block of ``lang`` in ``text`` that holds ``holding``."""
    (body,) = [b for k, b in blocks(text) if k == lang and holding in b]
    return body


PAGE = section(IT.read_text(), "## A room of machines (PostgreSQL)")
SERVER = section(PAGE, "### The server")
DATABASE = section(PAGE, "### The database and its two roles")
MACHINES = section(PAGE, "### Each machine's config")
WALL_HUB = section(PAGE, "### A wall PC as the standby hub")
BACKUP = section(PAGE, "### Backups and restore")
UPGRADE = section(PAGE, "### Upgrades")


def passwords() -> tuple[str, str]:
    """The owner's and the application's passwords, as the page's SQL sets them."""
    sql = the_block(DATABASE, "sh", "CREATE ROLE")
    owner = re.search(r"ROLE watchfloor_owner LOGIN PASSWORD '([^']+)'", sql)
    app = re.search(r"ROLE watchfloor_app +LOGIN PASSWORD '([^']+)'", sql)
    assert owner and app
    return owner[1], app[1]


OWNER_PASSWORD, APP_PASSWORD = passwords()


def machine_configs(text: str) -> dict[str, str]:
    """Each kind of machine's whole config: the common part and what the kind adds."""
    common = the_block(text, "toml", "[room]")
    kinds = {}
    for lang, body in blocks(text):
        first = body.splitlines()[0] if body else ""
        if lang == "toml" and (m := re.match(r"# ([\w ]+):", first)):
            kinds[m[1]] = body
    hub = common + kinds["hub"]
    return {
        "hub": hub,
        "standby hub": hub.replace(
            kinds["hub"].splitlines()[1], kinds["standby hub"].splitlines()[1]
        ),
        "wall PC": common + kinds["wall PC"],
        "workstation": common + kinds["workstation"],
    }


# -- the room's machine: one cluster, its addresses -------------------------------------


@dataclass
class Site:
    cluster: pg.Cluster
    tls: Path  # where the server's certificate, its key and the room's CA lie
    work: Path
    init_said: str = ""  # what the page's `room init` printed

    def local(self, text: str) -> str:
        """The page's addresses and paths, put where this test's room has them."""
        port = self.cluster.port
        for old, new in (
            ("db.room.example:5432", f"localhost:{port}"),
            ("db.room.example", "localhost"),
            ("10.20.0.0/24", "127.0.0.1/32"),
            ("10.20.0.5/32", "127.0.0.1/32"),
            ("listen_addresses = '*'", "listen_addresses = '127.0.0.1'"),
            ("/etc/ssl/certs/watchfloor-db.pem", str(self.tls / "watchfloor-db.pem")),
            ("/etc/ssl/private/watchfloor-db.key", str(self.tls / "watchfloor-db.key")),
            ("/etc/watchfloor/room-ca.pem", str(self.tls / "room-ca.pem")),
        ):
            text = text.replace(old, new)
        return text

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "WATCHFLOOR_"))}
        return {**env, "PATH": f"{self.cluster.bindir}:{env['PATH']}", "HOME": str(self.work),
                "PGPORT": str(self.cluster.port), "QT_QPA_PLATFORM": "offscreen", **extra}  # fmt: skip

    def sh(self, script: str, *, cwd: Path | None = None, env: dict[str, str] | None = None,
           stdin: str = "") -> str:  # fmt: skip
        """Run a shell block of the page as IT would on its machine; its stdout."""
        prelude = (
            # `sudo -u postgres psql`: the server's superuser over its local socket
            f'sudo() {{ [ "$1" = -u ] && shift 2; PGHOST="{self.cluster.workdir}" PGUSER={pg.SUPERUSER}'
            ' PGDATABASE=postgres PGSSLMODE=disable "$@"; }\n'
            f'watchfloor() {{ "{sys.executable}" -m app "$@"; }}\n'
        )
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", prelude + self.local(script)],
                              cwd=cwd or self.work, env=self.env(**(env or {})), input=stdin,
                              capture_output=True, text=True, timeout=180)  # fmt: skip
        assert done.returncode == 0, f"{script}\n---\n{done.stdout}{done.stderr}"
        return done.stdout

    def config(self, name: str, text: str, **replace: str) -> Path:
        text = self.local(text)
        for old, new in replace.items():
            text = text.replace(old, new)
        path = self.work / f"{name}.toml"
        path.write_text(text)
        return path

    def doctor(self, config: Path, **env: str) -> tuple[int, list[str]]:
        done = subprocess.run([sys.executable, "-m", "app", "doctor", "--headless", "--offline",
                               "--config", str(config), "--db", str(config.with_suffix(".db"))],
                              capture_output=True, text=True, timeout=120,
                              env=self.env(WATCHFLOOR_ROOM_PASSWORD=APP_PASSWORD, **env))  # fmt: skip
        assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        return done.returncode, done.stdout.splitlines()

    def admin(self) -> dict[str, str]:
        """The admin's machine: the room's config (the hub's) and a database of its own."""
        hub = self.config("hub", machine_configs(MACHINES)["hub"])
        return {"WATCHFLOOR_CONFIG": str(hub), "WATCHFLOOR_DB": str(self.work / "admin.db")}

    def owner(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host="127.0.0.1", port=self.cluster.port, dbname="watchfloor",
                               user="watchfloor_owner", password=OWNER_PASSWORD,
                               sslmode="require", autocommit=True,
                               options="-c search_path=watchfloor")  # fmt: skip


def make_certificates(site: Site) -> None:
    """The page's openssl lines, then its install lines' owners and modes."""
    site.sh(the_block(SERVER, "sh", "openssl req -x509"), cwd=site.tls)
    key = site.tls / "watchfloor-db.key"
    key.chmod(0o600)
    if os.geteuid() == 0:  # the server runs as postgres: `install -o postgres`
        os.chown(key, pwd.getpwnam("postgres").pw_uid, -1)
        os.chown(site.tls, pwd.getpwnam("postgres").pw_uid, -1)


def configure_server(site: Site) -> None:
    """postgresql.conf and pg_hba.conf as the page writes them, then a restart."""
    data = site.cluster.data
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(site.local(the_block(SERVER, "", "ssl = on")))
    hba = site.local(the_block(SERVER, "", "hostssl"))
    # only the local socket for the superuser (`sudo -u postgres psql`), then the page's
    # lines: no `host` line of initdb's is left to let a machine in without TLS
    (data / "pg_hba.conf").write_text("local all all trust\n" + hba)
    site.cluster.stop()
    site.cluster.start()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    need_postgres()
    if shutil.which("openssl") is None:
        pytest.fail("the page makes the room's certificates with openssl (Debian package openssl)")
    work = tmp_path_factory.mktemp("room-setup")
    with pg.cluster(roles=False) as c:
        tls = c.workdir / "tls"  # where the server's account can read its key
        tls.mkdir()
        s = Site(c, tls, work)
        make_certificates(s)
        configure_server(s)
        s.sh(the_block(DATABASE, "sh", "CREATE ROLE"))
        s.init_said = s.sh(the_block(DATABASE, "sh", "room init"), env=s.admin())
        yield s


def init_line(text: str) -> re.Pattern[str]:
    """The line ``room init`` prints, as the page shows it under its command (numbers free)."""
    (said,) = re.findall(r"^# (room schema version .*)$", text, re.M)
    before, after = re.split(r"\d+ → \d+", said)
    return re.compile(re.escape(before) + r"(\d+) → (\d+)" + re.escape(after))


# -- the tests -------------------------------------------------------------------------


def test_room_init_as_documented_makes_the_schema_and_the_least_grants(site: Site) -> None:
    from app.room.schema import grant_problems, latest

    block = the_block(DATABASE, "sh", "room init")
    found = init_line(site.local(block)).fullmatch(site.init_said.strip())
    assert found, site.init_said
    assert (found[1], found[2]) == ("0", str(latest()))
    assert f"0 → {latest()} at" in block, "the page shows the version this release migrates to"
    with site.owner() as conn:
        assert grant_problems(conn, "watchfloor_app") == []
    # a second run changes nothing and says so
    again = site.sh(block, env=site.admin())
    assert f"room schema already at version {latest()}" in again


def test_the_page_lists_the_application_roles_grants_as_room_init_gives_them() -> None:
    from app.room.schema import GRANTS

    listed: dict[str, tuple[str, ...]] = {}
    for tables, rights in re.findall(r"^\| (`\w+`[^|]*) \| ([A-Z, ]+?)(?: \(.*\))? \|$",
                                      DATABASE, re.M):  # fmt: skip
        for table in re.findall(r"`(\w+)`", tables):
            listed[table] = tuple(r.strip() for r in rights.split(","))
    assert listed == {t: tuple(sorted(r, key=("SELECT", "INSERT", "UPDATE", "DELETE").index))
                      for t, r in GRANTS.items()}  # fmt: skip


def test_tls_as_documented_is_verified_and_nothing_gets_in_without_it(site: Site) -> None:
    wall = machine_configs(MACHINES)["wall PC"]
    code, lines = site.doctor(site.config("tls-ok", wall))
    ca = site.tls / "room-ca.pem"
    assert not [line for line in lines if line.startswith("  FAIL room:")], lines
    assert (
        f"  ok   room TLS in use, the server's certificate and name verified against {ca} "
        "(sslmode = verify-full)" in lines
    ), lines
    # weaker modes work but are said to be weaker
    for mode, unchecked in (("verify-ca", "its name"), ("require", "whom it talks to")):
        code, lines = site.doctor(
            site.config(f"tls-{mode}", wall, **{'"verify-full"': f'"{mode}"'})
        )
        assert not [line for line in lines if line.startswith("  FAIL room:")], lines
        assert (
            f"  note room TLS in use but not checking {unchecked} (sslmode = {mode}): "
            'set sslmode = "verify-full" and sslrootcert (docs/IT.md)' in lines
        ), lines
    # the certificate is for the server's name: another name for the same server fails
    code, lines = site.doctor(site.config("tls-name", wall, **{"@localhost:": "@127.0.0.1:"}))
    assert code == 1
    assert any("FAIL room: cannot reach the room" in line and "does not match host name" in line
               for line in lines), lines  # fmt: skip
    # a CA the machine does not trust (another room's): refused before any password
    other = site.work / "other-ca"
    other.mkdir(exist_ok=True)
    first = (
        the_block(SERVER, "sh", "openssl req -x509")
        .split("\n\n")[0]
        .split("openssl req -newkey")[0]
    )
    site.sh(first, cwd=other)
    code, lines = site.doctor(site.config("tls-ca", wall, **{str(site.tls / "room-ca.pem"):
                                                             str(other / "room-ca.pem")}))  # fmt: skip
    assert code == 1
    assert any("FAIL room: cannot reach the room" in line and "certificate verify failed" in line
               for line in lines), lines  # fmt: skip
    # without TLS the server's pg_hba.conf lets nobody in
    code, lines = site.doctor(site.config("tls-off", wall, **{'"verify-full"': '"disable"'}))
    assert code == 1
    assert any("FAIL room: cannot reach the room" in line and "no encryption" in line
               for line in lines), lines  # fmt: skip


def test_each_machine_as_documented_passes_doctor_and_does_its_part(site: Site) -> None:
    from app.room.schema import latest

    configs = machine_configs(MACHINES)
    readme = machine_configs(section(README.read_text(), "## A room of machines"))
    assert readme == configs, "README shows the machines' configs as docs/IT.md does"
    token = {"WATCHFLOOR_MASTODON_TOKEN": "a token"}  # the hubs' source secret, as documented
    paths = {kind: site.config(kind.replace(" ", "-"), text) for kind, text in configs.items()}
    # a hub's secrets file as the page writes it, read by the shell as it says
    home = site.work / "hub-home"
    secrets = the_block(MACHINES, "sh", "install -D -m 600").replace("…", "a token")
    site.sh(secrets, env={"HOME": str(home)})
    assert (home / ".config/watchfloor/secrets.env").stat().st_mode & 0o777 == 0o600
    # the room's first user, as the page adds it (the password typed twice)
    first = the_block(MACHINES, "sh", "users add")
    said = site.sh(first, env={"HOME": str(home), "WATCHFLOOR_CONFIG": str(paths["workstation"]),
                               "WATCHFLOOR_DB": str(home / "admin.db")},
                   stdin="a long password\na long password\n")  # fmt: skip
    assert said.strip() == re.findall(r"^# (user .*)$", first, re.M)[0]
    for kind, path in paths.items():
        code, lines = site.doctor(path, **token)
        assert code == 0 and lines[-1] == "no problems found", (kind, lines)
        assert "  ok   room users: 1 admin" in lines
        assert not [line for line in lines if "no console users yet" in line]  # not the cache's
        assert f"  ok   room schema version {latest()}" in lines
        assert (
            "  ok   room grants of watchfloor_app: least privilege (audit: insert and select only)"
            in lines
        )
    # a hub's doctor as the page runs it, the secrets read by the shell first
    unit = the_block(MACHINES, "sh", "systemctl --user enable --now watchfloor-poll")
    check = [line for line in unit.splitlines() if line.startswith(("set -a", "watchfloor doctor"))]
    assert check == ["set -a; . ~/.config/watchfloor/secrets.env; set +a",
                     "watchfloor doctor --headless"]  # fmt: skip
    said = site.sh("\n".join(check) + " --offline\n", env={"HOME": str(home),
                   "WATCHFLOOR_CONFIG": str(paths["hub"]), "WATCHFLOOR_DB": str(home / "hub.db")})  # fmt: skip
    assert said.splitlines()[-1] == "no problems found", said
    # the hubs poll (a demo source standing in for the network), one at a time
    mastodon = configs["hub"][configs["hub"].index("[[sources]]") :]
    env = site.env(WATCHFLOOR_ROOM_PASSWORD=APP_PASSWORD)
    hubs = {}
    for kind in ("hub", "standby hub"):
        config = site.config(f"run-{kind.replace(' ', '-')}", configs[kind],
                             **{mastodon: demo_source()})  # fmt: skip
        hubs[kind] = procs.Proc(kind.replace(" ", "-"), ["poll", "--config", str(config), "--db",
                                str(config.with_suffix(".db"))], env, site.work)  # fmt: skip
    wall_db = site.work / "wall.db"
    wall = procs.Proc("wall", ["room", "sync", "--config", str(paths["wall PC"]), "--db",
                               str(wall_db)], env, site.work)  # fmt: skip
    try:
        with site.owner() as conn:

            def standing() -> list[str]:
                from app.room.hub import lock_holder, standing_by

                return [lock_holder(conn) or "", *standing_by(conn)]

            wait_until(lambda: sorted(standing()) in (["hub-2", "watchfloor hub hub-1"],
                                                      ["hub-1", "watchfloor hub hub-2"]), 60,
                       "one hub active, the other standing by")  # fmt: skip
            active = standing()[0].removeprefix("watchfloor hub ")
        code, lines = site.doctor(paths["hub"], **token)
        waiting = "hub-2" if active == "hub-1" else "hub-1"
        assert (
            f"  ok   room hub: {active} holds the hub lock and polls; standing by: {waiting}"
            in lines
        )
        # the wall PC's poll unit (brought along by its wall unit) is no hub: it ends at once
        done = subprocess.run([sys.executable, "-m", "app", "poll", "--config",
                               str(paths["wall PC"]), "--db", str(site.work / "wall-poll.db")],
                              env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == ("room hub: not a hub, wall-left has no [[sources]] to poll "
                                       "for the room (wall PCs and workstations fill their caches "
                                       "themselves)")  # fmt: skip
        wait_until(lambda: len(room_ids(site)) >= 30, 60, "the hub to publish")
        wait_until(lambda: procs.cache_ids(wall_db) >= room_ids(site) - late(site), 60,
                   "the wall PC's cache")  # fmt: skip
        backup_and_restore(site, hubs, active, wall, wall_db)
    finally:
        for proc in (*hubs.values(), wall):
            proc.stop(signal.SIGKILL)


def room_ids(site: Site) -> set[str]:
    with site.owner() as conn:
        return {str(r[0]) for r in conn.execute("SELECT id FROM mentions")}


def stamps(site: Site) -> dict[str, float]:
    """Each mention's time in the room, by id."""
    with site.owner() as conn:
        return {str(i): float(ts) for i, ts in conn.execute("SELECT id, ts FROM mentions")}  # type: ignore[arg-type]


def late(site: Site) -> set[str]:
    """Mentions published in the last second (a station may not have them yet)."""
    with site.owner() as conn:
        return {str(r[0]) for r in conn.execute("SELECT id FROM mentions WHERE seq > "
                                                "(SELECT last FROM mention_seq) - 200")}  # fmt: skip


def backup_and_restore(site: Site, hubs: dict[str, procs.Proc], active: str, wall: procs.Proc,
                       wall_db: Path) -> None:  # fmt: skip
    """The page's pg_dump while the room runs, its restore, and the room going on."""
    pgpass = re.search(r"`(db\.room\.example:5432:watchfloor:watchfloor_owner:[^`]+)`", BACKUP)
    assert pgpass and pgpass[1].endswith(":" + OWNER_PASSWORD)
    (site.work / ".pgpass").write_text(site.local(pgpass[1]) + "\n")
    (site.work / ".pgpass").chmod(0o600)
    site.sh(the_block(BACKUP, "sh", "pg_dump"))
    (dump,) = site.work.glob("watchfloor-*.dump")
    with site.owner() as conn:
        (old_room,) = conn.execute(
            "SELECT value FROM room_meta WHERE key = 'room_id'"
        ).fetchone() or ("",)
    dumped = len(room_ids(site))  # at least as many as the backup holds
    wait_until(lambda: len(room_ids(site)) > dumped + 30, 60, "mentions after the backup")
    for hub in hubs.values():  # "stop the hubs"
        assert hub.stop() == 0, hub.output()
    before = stamps(site)
    restore = the_block(BACKUP, "sh", "pg_restore").replace("watchfloor-2026-12-01.dump", dump.name)
    site.sh(restore, env={"WATCHFLOOR_ROOM_OWNER_PASSWORD": OWNER_PASSWORD, **site.admin()})
    with site.owner() as conn:
        (new_room,) = conn.execute(
            "SELECT value FROM room_meta WHERE key = 'room_id'"
        ).fetchone() or ("",)
        restored = {str(r[0]) for r in conn.execute("SELECT id FROM mentions")}
    assert new_room and new_room != old_room
    assert restored < set(before)  # the backup is older than the room was when it stopped
    # "start the hubs again": the hub that was active offers the restored room what its
    # cache holds, the mentions published after the backup among them (the same posts, not
    # polled again: the demo's ids would come back, with other times)
    env = site.env(WATCHFLOOR_ROOM_PASSWORD=APP_PASSWORD)
    config = site.work / ("run-hub.toml" if active == "hub-1" else "run-standby-hub.toml")
    again = procs.Proc("hub-again", ["poll", "--config", str(config), "--db",
                                     str(config.with_suffix(".db"))], env, site.work)  # fmt: skip
    hubs["again"] = again
    wait_until(lambda: room_ids(site) >= set(before), 60, "the room to hold again what it held")
    assert again.stop() == 0, again.output()
    now = stamps(site)
    assert {i: now[i] for i in before} == before
    assert "the room has a new identity (restored?)" in again.err.read_text()
    whole = room_ids(site)
    with site.owner() as conn:
        seqs = [int(str(s)) for (s,) in conn.execute("SELECT seq FROM mentions ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))
    # the wall PC reconnected by itself and reads the restored room from the start
    wait_until(
        lambda: procs.cache_ids(wall_db) >= whole, 60, "the wall PC to read the restored room"
    )
    wait_until(lambda: json.loads(procs.cache_meta(wall_db, "room.link") or "{}").get("state")
               == "up", 30, "the wall PC's link up")  # fmt: skip
    assert wall.stop() == 0, wall.output()
    assert "filled from another room" in wall.err.read_text()


def test_an_upgrade_as_documented(site: Site) -> None:
    """A room at the previous release's schema: the new hub waits, `room init` upgrades it."""
    from app.room import schema

    site.sh(the_block(BACKUP, "sh", "DROP DATABASE").split("SQL\n", 2)[0] + "SQL\n")
    with site.owner() as conn, conn.transaction():  # what the previous release's init made
        conn.execute("CREATE SCHEMA watchfloor")
        conn.execute(schema._VERSION_TABLE)
        for version in range(1, schema.latest()):
            conn.execute(schema.MIGRATIONS[version - 1])
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
        conn.execute("GRANT USAGE ON SCHEMA watchfloor TO watchfloor_app")  # and its grants
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA watchfloor TO watchfloor_app")
    configs = machine_configs(MACHINES)
    mastodon = configs["hub"][configs["hub"].index("[[sources]]") :]
    config = site.config("upgrade-hub", configs["hub"], **{mastodon: demo_source()})
    env = site.env(WATCHFLOOR_ROOM_PASSWORD=APP_PASSWORD)
    hub = procs.Proc("upgrade-hub", ["poll", "--config", str(config), "--db",
                                     str(config.with_suffix(".db"))], env, site.work)  # fmt: skip
    try:
        wait_until(lambda: "run `watchfloor room init` as the owner role" in hub.err.read_text(),
                   60, "the new hub to say what to do")  # fmt: skip
        assert hub.popen.poll() is None and not room_ids(site)  # it waits, polling nothing
        block = the_block(UPGRADE, "sh", "room init")
        out = site.sh(block, env=site.admin())
        found = init_line(site.local(block)).fullmatch(out.strip())
        assert found and (found[1], found[2]) == (str(schema.latest() - 1), str(schema.latest())), (
            out
        )
        assert f"{schema.latest() - 1} → {schema.latest()} at" in block
        wait_until(lambda: len(room_ids(site)) >= 30, 60, "the hub to go on by itself")
        assert hub.stop() == 0, hub.output()
    finally:
        hub.stop(signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        (site.work / "admin.db").unlink()


def test_a_wall_pc_as_documented_stands_by_as_hub_and_takes_over(site: Site) -> None:
    """The wall PC's config gains the hub's sources; its poll unit gets its own database."""
    configs = machine_configs(MACHINES)
    sources = configs["hub"][configs["hub"].index("[[sources]]") :]
    hub = site.config("wallhub-hub-1", configs["hub"], **{sources: demo_source()})
    wall = site.config("wallhub-wall", configs["wall PC"] + "\n" + demo_source())
    block = the_block(WALL_HUB, "sh", "systemctl --user edit watchfloor-poll")
    unit = dict(re.findall(r"^#   Environment=(\w+)=(.*)$", block, re.M))
    home = site.work / "wall-pc-home"  # the wall PC's user: its own data folder
    own_db = unit["WATCHFLOOR_DB"].replace("%h", str(home))
    expected = re.search(r'watchfloor doctor +# "(room hub: .*)"', block)
    assert expected and own_db.endswith("/hub.db")
    base = site.env(WATCHFLOOR_ROOM_PASSWORD=APP_PASSWORD, HOME=str(home))
    env = {**base, "WATCHFLOOR_CONFIG": str(wall)}
    one = procs.Proc("wallhub-hub-1", ["poll", "--config", str(hub), "--db",
                                       str(hub.with_suffix(".db"))], base, site.work)  # fmt: skip
    started = len(room_ids(site))
    with site.owner() as conn:  # the hub machine first, then the wall PC boots
        from app.room.hub import lock_holder, standing_by

        wait_until(
            lambda: lock_holder(conn) == "watchfloor hub hub-1", 60, "hub-1 to take the lock"
        )
    # the wall PC: its wall (the cache in the user's data folder) and its poll unit
    shows = procs.Proc("wallhub-wall", ["wall", "--kiosk"], env, site.work)
    standby = procs.Proc("wallhub-poll", ["poll"], {**env, "WATCHFLOOR_DB": own_db}, site.work)
    cache = home / ".local" / "share" / "watchfloor" / "watchfloor.db"
    try:
        wait_until(lambda: len(room_ids(site)) >= started + 30, 60, "hub-1 to publish")
        with site.owner() as conn:
            wait_until(lambda: standing_by(conn) == ["wall-left"], 60, "the wall PC to stand by")
            assert lock_holder(conn) == "watchfloor hub hub-1"
        done = subprocess.run([sys.executable, "-m", "app", "doctor", "--headless", "--offline"],
                              env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert f"  ok   {expected[1]}" in done.stdout.splitlines(), done.stdout
        wait_until(lambda: procs.cache_ids(cache) >= room_ids(site) - late(site), 60,
                   "the wall's cache")  # fmt: skip
        # without the drop-in's own database the hub would share the wall's cache: refused
        wait_until(lambda: procs.cache_meta(cache, "room.seq"), 30, "the wall's room cursor")
        shared = subprocess.run([sys.executable, "-m", "app", "poll"], env=env, timeout=120,
                                capture_output=True, text=True)  # fmt: skip
        assert shared.returncode == 2
        assert shared.stderr.startswith(f"watchfloor: {cache} is this machine's station cache")
        one.stop(signal.SIGKILL)
        before = len(room_ids(site))
        with site.owner() as conn:
            wait_until(lambda: lock_holder(conn) == "watchfloor hub wall-left", 30,
                       "the wall PC's hub to take over")  # fmt: skip
        wait_until(lambda: len(room_ids(site)) >= before + 30, 60, "the wall PC's hub to publish")
        assert standby.stop() == 0, standby.output()
        whole = room_ids(site)
        wait_until(lambda: procs.cache_ids(cache) >= whole, 60, "the wall's cache to follow")
        assert shows.popen.poll() is None, shows.output()  # the wall showed on throughout
        assert shows.stop() == 0, shows.output()
    finally:
        for proc in (one, standby, shows):
            proc.stop(signal.SIGKILL)
    assert "1 active period" in standby.last_line()
    assert Path(own_db).exists() and cache.exists()  # two files: the hub's and the wall's
    with site.owner() as conn:
        seqs = [int(str(s)) for (s,) in conn.execute("SELECT seq FROM mentions ORDER BY seq")]
        counters = sorted(
            int(str(i).rsplit("-", 1)[1]) for (i,) in conn.execute("SELECT id FROM mentions")
        )
    assert seqs == list(range(1, len(seqs) + 1))
    assert counters == list(range(len(counters)))  # no gap, no duplicate across the takeover
