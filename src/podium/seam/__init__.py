"""The seam between a production and the conductor's screen, defined outside both.

The screen (`podium.tui`) imports this package and never `podium.engine` or `podium.store`;
the engine imports it for `CommandResult` and the validators its commands share with the
dialogs. The CLI wires an engine (in this process) or a follower (of an engine elsewhere)
into the screen as a `ProductionSource` (see `podium.seam.sources`, which only the CLI and
tests import).

- `protocol`: `ProductionSource`, `CommandResult`, `ExportFailed`.
- `stream`: `ChangeQueue`, the bounded, coalescing stream of changes `subscribe()` returns.
- `validators`: the pure checks a command and its dialog share (`Rejected` says why not).
"""
