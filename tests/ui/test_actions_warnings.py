"""The runner's warnings (an audit record that could not be written) reach the person:
a notification naming the log and the error, and a line in the output pane. The action
itself is not refused."""

from __future__ import annotations

from helpers import settle
from uifixtures import LAB_A, AppFactory, FakeRunner

from nsexplorer.ui.widgets.output import OutputPane

SIZE = (120, 36)
WARNING = "audit log /var/log/nsexplorer/audit.log not written: No space left on device"


class FullDiskRunner(FakeRunner):
    """Every action runs, and every audit record fails, as on a full /var."""

    def run(self, *args: object, **kw: object):  # type: ignore[no-untyped-def]
        self.warnings.append(WARNING)
        return super().run(*args, **kw)  # type: ignore[arg-type]

    def name(self, ns, name):  # type: ignore[no-untyped-def]
        self.warnings.append(WARNING)
        return super().name(ns, name)


def warnings_shown(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in app._notifications if n.severity == "warning"]


async def test_a_command_whose_audit_record_failed_still_runs_and_says_so(
    make_app: AppFactory,
) -> None:
    runner = FullDiskRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("x", *"ip -br addr", "enter")
        await settle(pilot)
        assert runner.runs == [(LAB_A, ("ip", "-br", "addr"), False)]
        assert warnings_shown(app) == [WARNING]
        transcript = app.query_one(OutputPane).transcript
        assert any(line.startswith("[exit 0]") for line in transcript)
        assert f"warning: {WARNING}" in transcript
        assert runner.warnings == []  # taken once, not shown again


async def test_naming_whose_audit_record_failed_says_so(make_app: AppFactory) -> None:
    runner = FullDiskRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("n", *"nsxh4-ui", "enter")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert runner.named == [(LAB_A, "nsxh4-ui")]
        assert warnings_shown(app) == [WARNING]


async def test_no_warning_no_notification(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x", *"true", "enter")
        await settle(pilot)
        assert runner.runs
        assert warnings_shown(app) == []
