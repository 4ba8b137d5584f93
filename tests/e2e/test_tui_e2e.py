"""The real `nsexplorer` TUI in a real terminal (tmux, 80x24), as a person over SSH uses it.

Against the lab (named namespaces on a bridge, a veth between two namespaces, a hidden
one, Docker containers on the testbed) and against a saved snapshot (`--from FILE`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from terminal_colors import illegible

from nsexplorer.ui.typeahead import TYPING_GAP

if TYPE_CHECKING:
    from nsexplorer.lab import LabState

pytestmark = [pytest.mark.e2e]

TMUX = shutil.which("tmux")
NSX = [sys.executable, "-m", "nsexplorer"]


def tmux(*args: str) -> str:
    assert TMUX is not None
    return subprocess.run([TMUX, *args], capture_output=True, text=True, check=True).stdout


def new_session(session: str, width: int, height: int, cmd: str) -> None:
    # The tmux server exits with its last session; a new-session racing that exit fails.
    assert TMUX is not None
    argv = [TMUX, "new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), cmd]
    for attempt in range(20):
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return
        time.sleep(0.05 * (attempt + 1))
    raise AssertionError(f"tmux new-session failed: {done.stderr.strip()}")


@dataclass
class Term:
    session: str
    audit_log: str

    def screen(self) -> str:
        return tmux("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str) -> None:
        for key in keys:
            tmux("send-keys", "-t", self.session, key)
            time.sleep(0.15)

    def text(self, line: str) -> None:
        tmux("send-keys", "-t", self.session, "-l", line)
        time.sleep(0.15)

    def wait(self, ok: Callable[[str], bool] | str, what: str = "", timeout: float = 45) -> str:
        check = (lambda s: ok in s) if isinstance(ok, str) else ok
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if check(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"never saw {what or ok!r}; screen:\n{text}")

    def title_line(self) -> str:
        # the main area's title: first line, right of the sidebar's border
        first = self.screen().splitlines()[0]
        return first.split("▕", 1)[1] if "▕" in first else first

    def pane_title(self) -> str:
        return tmux("display-message", "-p", "-t", self.session, "#{pane_title}")


@pytest.fixture
def term() -> Iterator[Callable[..., Term]]:
    """Starts `nsexplorer ARGS` in a fresh 80x24 tmux session; kills it afterwards."""
    if TMUX is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    sessions: list[str] = []

    def start(
        *args: str, term: str = "xterm-256color", extra_env: str = "", width: int = 80
    ) -> Term:
        session = f"nsxt-tui-{secrets.token_hex(3)}"
        sessions.append(session)
        audit = f"/tmp/{session}.audit.log"
        env = f"TERM={term} NSX_AUDIT_LOG={audit} HOME=/root PS1='$ '"
        if os.environ.get("DOCKER_HOST"):
            env += f" DOCKER_HOST={shlex.quote(os.environ['DOCKER_HOST'])}"
        env += f" {extra_env}"  # last: it overrides the above
        cmd = shlex.join([*NSX, *args])
        shell = (
            f"env -i PATH={shlex.quote(os.environ['PATH'])} {env} "
            f"sh -c {shlex.quote(cmd + '; echo NSX-EXIT=$?; exec sleep 600')}"
        )
        new_session(session, width, 24, shell)
        return Term(session, audit)

    try:
        yield start
    finally:
        for session in sessions:
            left = _processes_in(session)
            subprocess.run([TMUX, "kill-session", "-t", session], check=False)  # type: ignore[list-item]
            for pid in left:  # a hangup must end nsexplorer; never leave one behind
                assert pid_gone(pid), f"pid {pid} outlived its terminal (session {session})"
            Path(f"/tmp/{session}.audit.log").unlink(missing_ok=True)


def _processes_in(session: str) -> list[int]:
    """The processes under the session's pane (ours: started by this test)."""
    done = subprocess.run(
        [TMUX, "display-message", "-p", "-t", session, "#{pane_pid}"],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        return []
    pane = int(done.stdout)
    try:
        with open(f"/proc/{pane}/task/{pane}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def shell_prompt(screen: str) -> bool:
    """The TUI is gone and a shell's prompt is waiting: the one `s` gives, labelled
    `[nsx LABEL] #`, or the outer shell's (PS1='$ ')."""
    lines = [line.strip() for line in screen.splitlines()]
    return "· live" not in screen and any(
        line == "$" or (line.startswith("[nsx ") and line.endswith(("#", "$"))) for line in lines
    )


def live_ready(t: Term) -> str:
    return t.wait(lambda s: "namespaces · live" in s, "a populated sidebar")


def find(t: Term, query: str, expect: str) -> None:
    """`/` filter, then focus the first hit and the main pane."""
    t.keys("/")
    t.text(query)
    t.wait(lambda s: expect in t.title_line(), f"{expect} selected by filter {query!r}")
    t.keys("Enter")  # filter -> sidebar


# --------------------------------------------------------------------------- live, lab


@pytest.mark.root
def test_filter_follow_veth_and_back_then_quit(lab: LabState, term: Callable[..., Term]) -> None:
    t = term()
    live_ready(t)
    find(t, "10.215.0.12", "nsxlab-b")  # nsxlab-b's eth0 address
    t.keys("Enter")  # sidebar -> interfaces
    screen = t.wait("→ nsxlab-b-h in", "the peer shown as → nsxlab-b-h in host (…)")
    rows = [line.split("▕", 1)[1] for line in screen.splitlines() if "▕" in line]
    eth0_row = next(i for i, r in enumerate(rows[3:]) if r.strip().startswith("eth0"))
    first_row = next(i for i, r in enumerate(rows[3:]) if r.strip())
    t.keys(*(["j"] * (eth0_row - first_row)), "Enter")
    t.wait(lambda s: t.title_line().strip().startswith("host"), "the host after following")
    t.wait("nsxlab-b-h", "the peer row in the host")
    t.keys("b")
    t.wait(lambda s: t.title_line().strip().startswith("nsxlab-b"), "back in nsxlab-b")
    t.keys("q")
    t.wait("NSX-EXIT=0", "a clean exit")


@pytest.mark.root
def test_run_a_command_with_x(lab: LabState, term: Callable[..., Term]) -> None:
    t = term()
    live_ready(t)
    find(t, "10.215.1.1", "nsxlab-a")  # nsxlab-a's end of the a<->b veth
    t.keys("x")
    t.wait("Run in", "the run prompt")
    t.text("ip -br link")
    t.keys("Enter")
    screen = t.wait("[exit 0]", "the command's exit status")
    assert "nsxlab-ab" in screen  # nsxlab-a's own interface: it ran inside
    assert "ip netns exec nsxlab-a ip -br link" in screen  # the equivalent command
    log = Path(t.audit_log).read_text()
    assert "nsxlab-a" in log and "ip" in log


def test_keys_typed_with_x_in_one_write_reach_its_prompt(
    lab: LabState, term: Callable[..., Term]
) -> None:
    """`x`, a command and Enter in one write (a paste, a laggy link): the whole command
    runs, every round; none of its letters acts as a main-screen key (c, s, /, n)."""
    t = term(width=100)
    live_ready(t)
    find(t, "10.215.1.1", "nsxlab-a")
    for round_no in range(6):
        t.text(f"xecho nsx-ahead-{round_no} c s n /tmp\r")
        out = f"nsx-ahead-{round_no} c s n /tmp"
        # the header ("$ echo …") and the output line, then the run has ended
        t.wait(lambda s, out=out: s.count(out) >= 2, f"round {round_no}'s whole output")
        t.wait(lambda s: "● running" not in s, f"round {round_no} to end")
        screen = t.screen()
        assert "Run in" not in screen and "/ filter" not in screen.splitlines()[0]
    lines = [json.loads(line) for line in Path(t.audit_log).read_text().splitlines()]
    runs = [r for r in lines if r.get("state") != "running"]  # each run's final line
    echoed = [r["argv"][r["argv"].index("echo") :] for r in runs if "echo" in r.get("argv", ())]
    # each round ran once, whole: nothing cut short ran instead
    assert echoed == [["echo", f"nsx-ahead-{n}", "c", "s", "n", "/tmp"] for n in range(6)]


def test_keys_typed_with_a_refused_x_never_act_as_keys(
    lab: LabState, term: Callable[..., Term]
) -> None:
    """A filter that matches nothing, then `x`, a command and Enter in one write: `x` is
    refused, and the command's letters (c copies, s opens a shell, n names, / filters)
    are dropped with it, not run as keys."""
    t = term(width=100)
    live_ready(t)
    t.keys("/")
    t.text("nsx-no-such-namespace")
    t.wait(lambda s: "nothing selected" in t.title_line(), "no selection")
    t.keys("Enter")
    t.text("xecho c s n /tmp\r")
    t.wait("nothing is selected (the filter", "the refusal")
    t.wait("ignored the keys typed with it", "the note that the rest was dropped")
    screen = t.screen()
    assert "Run in" not in screen and "Name" not in screen.splitlines()[-1]
    assert "no match · live" in screen  # still the UI, still no selection: no shell
    assert screen.splitlines()[0].split("▕")[0].strip() == "/ nsx-no-such-namespace"
    # nothing ran or was named: the audit log was never even created
    assert not Path(t.audit_log).exists()
    time.sleep(TYPING_GAP + 0.1)  # a key after a pause is a key again (not typing on)
    t.keys("q")
    t.wait("NSX-EXIT=0", "a clean exit")


@pytest.mark.root
def test_escape_typed_fast_cancels_the_prompt_and_runs_nothing(
    lab: LabState, term: Callable[..., Term]
) -> None:
    """Escape and the next keys in one write (a fast typist, a batching SSH link):
    Textual reads ESC i as alt+i; the prompt must still be cancelled."""
    t = term()
    live_ready(t)
    find(t, "nsxlab-a", "nsxlab-a")
    t.keys("x")
    t.wait("Run in", "the run prompt")
    t.text("\x1bid\r")
    deadline = time.monotonic() + 5
    while "Run in" in t.screen() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # a run, had one started, is in the audit log by now
    assert "Run in" not in t.screen()
    log = Path(t.audit_log)
    assert not log.exists() or '"id"' not in log.read_text()


@pytest.mark.root
def test_shell_round_trip_returns_to_the_same_screen(
    lab: LabState, term: Callable[..., Term]
) -> None:
    t = term()
    live_ready(t)
    find(t, "10.215.0.11", "nsxlab-a")
    t.keys("2")  # the routes pane, to see it again afterwards
    before = t.wait("10.215.0.0/24", "nsxlab-a's routes")
    t.keys("s")
    t.wait(shell_prompt, "the terminal handed to the shell")
    t.text("sleep 1000")
    t.keys("Enter")
    time.sleep(0.3)
    t.keys("C-c")  # ctrl-c belongs to the shell's command, not to nsexplorer
    t.text("echo MA''RK; ip -br link show nsxlab-ab; exit")
    t.keys("Enter")
    after = t.wait(lambda s: "shown · live" in s, "the TUI back after exit")
    assert t.title_line().strip().startswith("nsxlab-a")
    assert "10.215.0.0/24" in after and "2 Routes" in after
    assert before.splitlines()[0] == after.splitlines()[0]
    lines = [json.loads(line) for line in Path(t.audit_log).read_text().splitlines()]
    shells = [(e.get("state"), e["exit_status"]) for e in lines if e["action"] == "shell"]
    assert shells == [("running", None), (None, 0)], lines  # as it started, as it ended


@pytest.mark.root
def test_shell_runs_inside_the_namespace(lab: LabState, term: Callable[..., Term]) -> None:
    t = term()
    live_ready(t)
    find(t, "10.215.0.11", "nsxlab-a")
    t.keys("s")
    screen = t.wait(shell_prompt, "the shell")
    assert "a shell in netns" in screen and "(nsxlab-a)" in screen  # the banner
    assert "[nsx nsxlab-a] #" in screen  # the prompt names the namespace
    t.text("echo MA''RK; ls /sys/class/net; echo L=$NSX_NETNS_LABEL N=$NSX_NETNS")
    t.keys("Enter")
    screen = t.wait(lambda s: "\nMARK" in s and "L=" in s, "the shell's output")
    assert "nsxlab-ab" in screen  # /sys describes nsxlab-a, not the host
    assert "L=nsxlab-a N=" in screen
    t.text("exit")
    t.keys("Enter")
    t.wait("shown · live", "the TUI back")


@pytest.mark.root
def test_keys_typed_with_s_never_become_the_shells_first_line(
    lab: LabState, term: Callable[..., Term], tmp_path: Path
) -> None:
    # `s`, a line and Enter in one write (a paste, a laggy link): the line was typed
    # before the shell existed, so it must not run there, as root.
    slow_start = tmp_path / "env.sh"  # the user's own $ENV, read first: 1.5 s of start-up
    slow_start.write_text("sleep 1.5\n")
    t = term(extra_env=f"ENV={slow_start}")
    live_ready(t)
    find(t, "10.215.0.11", "nsxlab-a")
    # The rest arrives while the terminal goes from the UI to the shell: after the UI
    # stopped reading, before the shell shows its prompt.
    tmux("send-keys", "-t", t.session, "-l", "s")
    time.sleep(0.4)
    tmux("send-keys", "-t", t.session, "-l", "echo NSX''TYPED; touch /tmp/nsxt-typed-ahead\r")
    screen = t.wait(shell_prompt, "the shell")
    time.sleep(1)
    screen = t.screen()
    assert "\nNSXTYPED" not in screen, screen  # the terminal may have echoed it: not run
    if "echo NSX" in screen:
        assert "nsexplorer: dropped" in screen, screen
    assert not Path("/tmp/nsxt-typed-ahead").exists()
    t.text("exit")
    t.keys("Enter")
    back = t.wait("shown · live", "the TUI back")
    assert "Run in" not in back  # nor did the keys act on the screen it came back to
    assert not Path("/tmp/nsxt-typed-ahead").exists()


@pytest.mark.root
def test_read_only_refuses_and_runs_nothing(lab: LabState, term: Callable[..., Term]) -> None:
    t = term("--read-only")
    live_ready(t)
    find(t, "10.215.0.11", "nsxlab-a")
    t.keys("x")
    t.wait("refused", "the refusal")
    screen = t.screen()
    assert "Run in" not in screen
    time.sleep(TYPING_GAP + 0.1)  # s after a pause: its own refusal, not typing on
    t.keys("s")
    t.wait("refused", "the refusal for the shell")
    assert "shown · live" in t.screen()  # still in the TUI: no shell ran
    assert not Path(t.audit_log).exists() or "shell" not in Path(t.audit_log).read_text()


@pytest.mark.root
@pytest.mark.docker
def test_container_found_by_ip_and_followed_to_its_bridge(
    lab: LabState, term: Callable[..., Term]
) -> None:
    if not lab.containers:
        pytest.fail("the lab has no containers although Docker answers")
    app = lab.container("nsxlab-app")
    assert app.address
    t = term(width=120)
    live_ready(t)
    find(t, app.address.split("/")[0], "nsxlab-app")
    t.keys("Enter")
    t.wait(f"in host ({lab.docker_network_bridge})", "the host veth on the network's bridge")
    t.keys("3")  # wiring
    t.wait(
        f"bridge {lab.docker_network_bridge} docker:{lab.docker_network} in host",
        "the bridge in the wiring tree, named by its Docker network",
    )
    t.wait("nsxlab-app2", "the other container on the same bridge")


@pytest.mark.root
def test_hidden_namespace_is_listed_and_detailed(lab: LabState, term: Callable[..., Term]) -> None:
    t = term()
    live_ready(t)
    find(t, "10.215.0.30", lab.hidden_ns_path[:20])
    t.keys("5")
    screen = t.wait("hidden", "the hidden bind mount in the details")
    assert lab.hidden_ns_path in screen.replace("\n", "") or "/run/nsxlab" in screen


@pytest.mark.root
def test_never_ending_command_is_cancelled(lab: LabState, term: Callable[..., Term]) -> None:
    t = term()
    live_ready(t)
    find(t, "10.215.0.11", "nsxlab-a")
    t.keys("x")
    t.wait("Run in", "the run prompt")
    t.text("sleep 1000")
    t.keys("Enter")
    t.wait("ctrl+c cancels", "the command running")
    t.keys("j", "k")  # the UI stays responsive meanwhile
    t.keys("C-c")
    t.wait("[cancelled]", "the cancelled command")
    t.keys("q")
    t.wait("NSX-EXIT=0", "a clean exit")


@pytest.fixture
def hanging_docker(tmp_path: Path) -> Iterator[str]:
    """A unix socket that accepts connections and never answers (a hung daemon)."""
    import socket

    path = str(tmp_path / "nsxt-hang.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"unix://{path}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.root
def test_a_hanging_docker_daemon_never_freezes_the_ui(
    lab: LabState, term: Callable[..., Term], hanging_docker: str
) -> None:
    t = term(extra_env=f"DOCKER_HOST={hanging_docker}")
    # the sidebar shows although the engine never answers
    t.wait(lambda s: "namespaces · " in s and "nsxlab-a" in s, "the sidebar", timeout=20)
    find(t, "10.215.0.11", "nsxlab-a")
    t.keys("2")
    t.wait("10.215.0.0/24", "nsxlab-a's routes while Docker hangs")
    t.keys("q")
    t.wait("NSX-EXIT=0", "a clean exit", timeout=20)


# --------------------------------------------------------------------------- replay


LAB_SNAPSHOT = Path(__file__).parents[2] / "screenshots" / "lab-snapshot.json"


@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_keys_typed_while_it_starts_wait_for_it(term: Callable[..., Term], delay: float) -> None:
    """QA: `/`, `x`, `s` or `q` in the first half second ended the app with a traceback
    (the main screen's bindings ran before its widgets were there)."""
    t = term("--from", str(LAB_SNAPSHOT))
    time.sleep(delay)
    tmux("send-keys", "-t", t.session, "-l", "/nsxlab-b")
    t.wait(lambda s: t.title_line().strip().startswith("nsxlab-b"), "nsxlab-b found")
    assert "NSX-EXIT" not in t.screen()
    early = term("--from", str(LAB_SNAPSHOT))
    time.sleep(delay)
    tmux("send-keys", "-t", early.session, "q")
    early.wait("NSX-EXIT=0", "a clean exit", timeout=20)
    assert "Traceback" not in early.screen()


def test_a_pasted_escape_stays_in_place_escaped(term: Callable[..., Term]) -> None:
    """QA: pasting `nsx<ESC>cd` into the filter gave `^cdnsx` (Textual's parser sent the
    text after the ESC as keys, before the paste)."""
    t = term("--from", str(LAB_SNAPSHOT))
    t.wait("namespaces · replay", "the replayed snapshot")
    t.keys("/")
    pasted = b"\x1b[200~nsx\x1bcd\x1b[201~".hex(" ").split()
    tmux("send-keys", "-t", t.session, "-H", *pasted)
    t.wait(lambda s: s.splitlines()[0].lstrip().startswith("/ nsx\\x1bcd "), "nsx\\x1bcd")


def test_escape_and_slash_in_one_write_start_a_new_filter(term: Callable[..., Term]) -> None:
    """QA: on a laggy link Escape and `/` arrive together; Textual read them as `/` alone
    (the Escape lost), so the old filter stayed and the new text was appended to it."""
    t = term("--from", str(LAB_SNAPSHOT))
    t.wait("namespaces · replay", "the replayed snapshot")
    t.text("/nsxlab-a")
    t.wait(lambda s: t.title_line().strip().startswith("nsxlab-a"), "nsxlab-a found")
    t.keys("Enter")
    t.text("\x1b/nsxlab-b")
    t.wait(lambda s: s.splitlines()[0].lstrip().startswith("/ nsxlab-b "), "a new filter")
    t.wait(lambda s: t.title_line().strip().startswith("nsxlab-b"), "nsxlab-b found")


def write_hostile_snapshot(path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))
    from uifixtures import hostile_snapshot

    from nsexplorer import snapshot_json

    path.write_text(snapshot_json.dumps(hostile_snapshot()))


@pytest.mark.parametrize("term_name", ["xterm-256color", "xterm"])
def test_replay_of_a_saved_snapshot_is_read_only_and_safe(
    tmp_path: Path, term: Callable[..., Term], term_name: str
) -> None:
    snap = tmp_path / "nsxt-snapshot.json"
    write_hostile_snapshot(snap)
    t = term("--from", str(snap), term=term_name)
    screen = t.wait("namespaces · replay", "the replayed snapshot")
    assert "[link=http://x]evil[" in screen  # a hostile container name, literally
    assert "pwned" not in t.pane_title()  # no OSC 2 reached the terminal
    t.keys("/")
    t.text("[bold]x[/")  # the hostile netns name
    t.wait(lambda s: "[bold]x[/" in t.title_line(), "the hostile netns selected")
    t.keys("Enter", "Enter")
    t.wait("\\x1b]2;pwned\\x07", "the hostile interface name shown escaped")
    t.keys("x")
    t.wait("refused", "actions refused in a replay")
    assert "pwned" not in t.pane_title()
    time.sleep(TYPING_GAP + 0.1)  # q after a pause: a key again (not typing on)
    t.keys("q")
    t.wait("NSX-EXIT=0", "a clean exit")


def is_grey(n: int) -> bool:
    if n >= 232 or n in (0, 7, 8, 15):
        return True
    if 16 <= n <= 231:
        r, g, b = (n - 16) // 36, (n - 16) // 6 % 6, (n - 16) % 6
        return r == g == b
    return False


@pytest.mark.parametrize(
    ("term_name", "no_color"),
    [("xterm-256color", True), ("xterm", False), ("xterm", True), ("screen", False)],
)
def test_text_stays_legible_without_colour_and_on_16_colours(
    tmp_path: Path, term: Callable[..., Term], term_name: str, no_color: bool
) -> None:
    """NO_COLOR and 16-colour terminals: every character at 4.5:1 or better, on the
    sidebar with its highlighted row, the wiring, the footer; usable at 80x24."""
    snap = tmp_path / "nsxt-snapshot.json"
    write_hostile_snapshot(snap)
    env = "NO_COLOR=1" if no_color else ""
    t = term("--from", str(snap), "--no-mouse", term=term_name, extra_env=env)
    screen = t.wait(lambda s: "namespaces · replay" in s and "q Quit" in s, "the replayed snapshot")
    assert "1 Ifaces" in screen and "q Quit" in screen
    raw = tmux("capture-pane", "-p", "-e", "-t", t.session)
    if no_color:  # Textual draws in greys only
        colours = [int(n) for n in re.findall(r"\x1b\[(?:[0-9;]*;)?[34]8;5;(\d+)", raw)]
        chromatic = [n for n in colours if not is_grey(n)]
        assert not chromatic, f"colours under NO_COLOR: {sorted(set(chromatic))}"
    for keys in ([], ["j", "j"], ["3", "Enter"]):  # the sidebar; a row down; the wiring
        t.keys(*keys)
        time.sleep(0.3)
        raw = tmux("capture-pane", "-p", "-e", "-t", t.session)
        low = illegible(raw)
        assert not low, "text under 4.5:1:\n" + "\n".join(low)
    t.keys("q")
    t.wait("NSX-EXIT=0", "a clean exit")


@pytest.mark.root
def test_unname_never_writes_a_hostile_name_to_the_terminal(term: Callable[..., Term]) -> None:
    """The unname prompt used to pre-fill the raw netns name into an input field, which
    drew its OSC 2 sequence: the terminal's title became "owned". Now the names are a
    list of escaped choices, and the title stays."""
    name = "nsxh2-\x1b]2;owned\x07"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        t = term()
        live_ready(t)
        find(t, "nsxh2-", "nsxh2-\\x1b]2;owned\\x07")
        t.keys("N")
        screen = t.wait("Remove which name", "the unname choice")
        assert "owned" not in t.pane_title()
        assert "/var/run/netns/nsxh2-\\x1b]2;owned\\x07" in screen
        t.keys("Escape")
        t.wait(lambda s: "Remove which name" not in s, "the choice closed")
        assert os.path.exists(f"/var/run/netns/{name}")  # nothing removed
        t.keys("q")
        t.wait("NSX-EXIT=0", "a clean exit")
        assert "owned" not in t.pane_title()
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


# --------------------------------------------------------------------------- bursts, quitting


PROMPT_TARGET = re.compile(r"Run in (\S+) \(netns (\d+)\)")


def prompt_target(screen: str) -> tuple[str, str] | None:
    found = PROMPT_TARGET.search(screen)
    return (found.group(1), found.group(2)) if found else None


def back_to_rest(t: Term) -> None:
    """Close what a round opened and clear the filter: the unfiltered sidebar again."""
    t.keys("Escape")
    t.wait(lambda s: "Run in" not in s, "the prompt closed")
    t.keys("Escape")
    t.wait(lambda s: "namespaces · live" in s and "shown ·" not in s, "the filter cleared")


@pytest.mark.root
def test_a_burst_of_keys_never_targets_another_namespace(
    lab: LabState, term: Callable[..., Term]
) -> None:
    """`/QUERY`, Enter and `x` sent as one write (tmux send-keys -l, like a paste or a
    fast typist over a laggy link): the prompt must name the namespace the sidebar
    shows highlighted, and that must be the best match for the whole query."""
    t = term(width=100)
    live_ready(t)
    rounds = [
        ("nsxlab-a", "nsxlab-a"),  # an exact name: not the host (it has nsxlab-a-h)
        ("nsxlab-b", "nsxlab-b"),
        ("10.215.0.12", "nsxlab-b"),
        ("10.215.1.1/30", "nsxlab-a"),  # as the UI itself prints it
        ("nsxlab-c", "nsxlab-c"),
        ("nsxlab-ba", "nsxlab-b"),  # an interface name
    ]
    for _ in range(3):
        for query, expected in rounds:
            t.text(f"/{query}\rx")
            screen = t.wait(lambda s: prompt_target(s) is not None, f"the prompt for {query!r}")
            target = prompt_target(screen)
            assert target is not None and target[0] == expected, f"{query!r}: {target}"
            title = screen.splitlines()[0].split("▕", 1)[1]
            assert title.strip().startswith(expected), f"{query!r}: title {title!r}"
            assert f"netns {target[1]}" in title, f"{query!r}: title {title!r}"
            back_to_rest(t)


@pytest.mark.root
def test_a_filter_matching_nothing_leaves_nothing_to_act_on(
    lab: LabState, term: Callable[..., Term]
) -> None:
    t = term()
    live_ready(t)
    find(t, "nsxlab-a", "nsxlab-a")
    t.text("/zz-no-such-namespace\rx")
    screen = t.wait("nothing is selected", "the refusal")
    assert "Run in" not in screen
    assert "nothing selected" in t.title_line()


def own_processes(argv: list[str]) -> list[int]:
    """PIDs whose command line is exactly ``argv`` (a unique one this test started)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                words = f.read().split(b"\0")[:-1]
        except OSError:
            continue
        if [w.decode(errors="replace") for w in words] == argv:
            found.append(int(entry))
    return found


def wait_gone(argv: list[str], timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = own_processes(argv)
        if not left:
            return []
        time.sleep(0.1)
    left = own_processes(argv)
    for pid in left:  # ours (a unique argv): do not leave it behind for others
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


def start_sleeper(t: Term) -> list[str]:
    argv = ["sleep", f"{7000 + secrets.randbelow(2000)}.{secrets.randbelow(10**6)}"]
    find(t, "10.215.0.11", "nsxlab-a")
    t.keys("x")
    t.wait("Run in", "the run prompt")
    t.text(" ".join(argv))
    t.keys("Enter")
    t.wait("ctrl+c cancels", "the command running")
    deadline = time.monotonic() + 10
    while not own_processes(argv) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert own_processes(argv), "the command never started"
    return argv


@pytest.mark.root
def test_quit_while_a_command_runs_asks_then_ends_it(
    lab: LabState, term: Callable[..., Term]
) -> None:
    t = term()
    live_ready(t)
    argv = start_sleeper(t)
    t.keys("q")
    t.wait("Stop it", "the question")
    t.keys("y")
    t.wait("NSX-EXIT=0", "the terminal back")
    assert wait_gone(argv) == [], "the command outlived nsexplorer"


@pytest.mark.root
@pytest.mark.parametrize("how", ["SIGTERM", "hangup"])
def test_sigterm_or_a_hangup_ends_running_commands(
    lab: LabState, term: Callable[..., Term], how: str
) -> None:
    t = term()
    live_ready(t)
    argv = start_sleeper(t)
    app = nsx_pid(t)
    if how == "SIGTERM":
        os.kill(app, signal.SIGTERM)
        t.wait("NSX-EXIT=143", "the terminal back after SIGTERM")
    else:
        tmux("kill-session", "-t", t.session)  # the terminal goes away: SIGHUP
    assert wait_gone(argv) == [], f"the command outlived nsexplorer ({how})"
    assert pid_gone(app), f"nsexplorer itself outlived the {how}"


def pid_gone(pid: int, timeout: float = 10) -> bool:
    """Wait for ``pid`` (a process this test started) to end; SIGKILL it if it did not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{pid}") or _zombie(pid):
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return False


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def nsx_pid(t: Term) -> int:
    """The nsexplorer process in the session (the pane runs `sh -c 'nsexplorer; ...'`)."""
    pane = int(tmux("display-message", "-p", "-t", t.session, "#{pane_pid}"))
    with open(f"/proc/{pane}/task/{pane}/children") as f:
        children = [int(p) for p in f.read().split()]
    for pid in children:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"nsexplorer" in f.read():
                return pid
    raise AssertionError(f"no nsexplorer under pane {pane}: {children}")


@pytest.mark.parametrize(
    ("extra", "args", "captured"),
    [
        ("SSH_CONNECTION='10.0.0.1 5 10.0.0.2 22'", (), False),
        ("SSH_CONNECTION='10.0.0.1 5 10.0.0.2 22'", ("--mouse",), True),
        ("", (), True),
        ("", ("--no-mouse",), False),
    ],
)
def test_mouse_capture_is_off_over_ssh(
    tmp_path: Path, term: Callable[..., Term], extra: str, args: tuple[str, ...], captured: bool
) -> None:
    snap = tmp_path / "nsxt-snapshot.json"
    write_hostile_snapshot(snap)
    t = term(*args, "--from", str(snap), extra_env=extra)
    t.wait("namespaces · replay", "the replayed snapshot")
    flags = tmux("display-message", "-p", "-t", t.session, "#{mouse_any_flag}#{mouse_button_flag}")
    assert ("1" in flags) is captured, f"mouse flags {flags!r}"
    t.keys("q")
    t.wait("NSX-EXIT=0", "a clean exit")


@pytest.mark.root
def test_copy_reaches_tmux_when_set_clipboard_is_on(lab: LabState) -> None:
    """In a tmux of our own (its own server socket) with `set-clipboard on`, what the
    message tells the user to set: `c` puts the command in tmux's paste buffer."""
    if TMUX is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    server = f"nsxt-clip-{secrets.token_hex(3)}"

    def ours(*args: str) -> str:
        argv = [TMUX, "-L", server, "-f", "/dev/null", *args]  # type: ignore[list-item]
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout

    audit = f"/tmp/{server}.audit.log"
    cmd = shlex.join([*NSX])
    shell = (
        f"env PATH={shlex.quote(os.environ['PATH'])} TERM=xterm-256color HOME=/root "
        f"NSX_AUDIT_LOG={audit} sh -c {shlex.quote(cmd + '; exec sleep 600')}"
    )
    try:
        ours("new-session", "-d", "-s", "clip", "-x", "100", "-y", "24", shell)
        ours("set-option", "-g", "set-clipboard", "on")
        deadline = time.monotonic() + 45
        while "namespaces · live" not in ours("capture-pane", "-p", "-t", "clip"):
            assert time.monotonic() < deadline, "nsexplorer never showed up"
            time.sleep(0.2)
        ours("send-keys", "-t", "clip", "-l", "/nsxlab-b\r")
        time.sleep(1.0)
        ours("send-keys", "-t", "clip", "c")
        deadline = time.monotonic() + 10
        buffer = ""
        while time.monotonic() < deadline:
            done = subprocess.run(
                [TMUX, "-L", server, "show-buffer"], capture_output=True, text=True, check=False
            )
            buffer = done.stdout
            if "nsxlab-b" in buffer:
                break
            time.sleep(0.2)
        assert buffer.strip() == "ip netns exec nsxlab-b sh", buffer
    finally:
        subprocess.run([TMUX, "-L", server, "kill-server"], check=False)  # type: ignore[list-item]
        Path(audit).unlink(missing_ok=True)


@pytest.mark.root
def test_a_hangup_during_the_shell_ends_nsexplorer_too(
    lab: LabState, term: Callable[..., Term]
) -> None:
    # nsexplorer is not the session leader here (sh -c runs it, as a login shell would):
    # the hangup's SIGHUP goes to sh and to the shell's group, not to nsexplorer, which
    # used to stay behind for good, its UI waiting on a terminal that no longer exists.
    t = term()
    live_ready(t)
    find(t, "10.215.0.11", "nsxlab-a")
    t.keys("s")
    t.wait(shell_prompt, "the shell")
    ours = _processes_in(t.session)
    assert ours, "nsexplorer's pid"
    subprocess.run([TMUX, "kill-session", "-t", t.session], check=True)  # type: ignore[list-item]
    for pid in ours:
        assert pid_gone(pid), f"pid {pid} outlived the terminal's hangup"
