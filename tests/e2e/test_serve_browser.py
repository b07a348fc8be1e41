"""`podium serve` in a real browser: headless Chromium loads the page, draws the conductor screen
and drives the engine by key, over the Chrome DevTools Protocol.

Chromium comes from Debian (`.ci/run` installs it). Without it the test is skipped, unless
PODIUM_REQUIRE_CHROMIUM is set (CI sets it), where a missing browser is a failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from .test_headless_cli import podium
from .test_serve import free_port, start_serve

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_productions" / "arctic_journey.toml"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [pytest.mark.slow]
if BROWSER is None:
    pytestmark.append(
        pytest.mark.skipif(
            not os.environ.get("PODIUM_REQUIRE_CHROMIUM"), reason="chromium is not installed"
        )
    )

# Everything the page receives over its websocket, kept for the test to read: the terminal
# draws on a canvas, so the bytes it was given are what can be checked as text.
RECORD_SCREEN = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__screen = "";
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        if (typeof event.data !== "string") {
          window.__screen += decoder.decode(new Uint8Array(event.data), { stream: true });
        }
      });
    }
  };
})();
"""
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


class DevTools:
    """A minimal Chrome DevTools Protocol client on one page target."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.next_id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.socket.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            message = json.loads((await self.socket.receive(timeout=30)).data)
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result

    async def evaluate(self, expression: str) -> Any:
        reply = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return reply["result"].get("value")

    async def key(self, char: str) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key=char,
                text=char if kind == "keyDown" else "",
                code=f"Key{char.upper()}",
                windowsVirtualKeyCode=ord(char.upper()),
            )


async def wait_for(check: Any, what: str) -> Any:
    """Poll `check` until it gives something true, for up to 45 seconds."""
    try:
        async with asyncio.timeout(45):
            while not (value := await check()):
                await asyncio.sleep(0.25)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
    return value


async def conduct_in_browser(url: str, debug_port: int, db: Path, env: dict[str, str]) -> str:
    async with aiohttp.ClientSession() as http:

        async def targets() -> list[dict[str, Any]]:
            try:
                async with http.get(f"http://127.0.0.1:{debug_port}/json/list") as reply:
                    found: list[dict[str, Any]] = await reply.json()
            except aiohttp.ClientError:
                return []
            return [target for target in found if target.get("type") == "page"]

        async def serving() -> bool:  # the token is taken: a cookie and the bare address
            try:
                async with http.get(url, allow_redirects=False) as reply:
                    return reply.status == 303
            except aiohttp.ClientError:
                return False

        await wait_for(serving, "podium serve to answer")
        page = (await wait_for(targets, "chromium's debugging port"))[0]
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as socket:
            tools = DevTools(socket)
            await tools.call("Page.enable")
            await tools.call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_SCREEN)
            await tools.call("Page.navigate", url=url)

            async def drawn() -> bool:
                classes = await tools.evaluate("document.body.className")
                return "-first-byte" in (classes or "")

            await wait_for(drawn, "the first bytes of the screen in the page")

            async def screen() -> str | None:
                text = ANSI.sub("", await tools.evaluate("window.__screen") or "")
                return text if "The Long White" in text and "Inbox" in text else None

            text: str = await wait_for(screen, "the conductor screen in the page")
            await tools.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
            await tools.key("p")

            async def paused() -> bool:
                reply = await asyncio.to_thread(podium, "status", str(db), "--json", env=env)
                return reply.returncode == 0 and json.loads(reply.stdout)["paused"] is True

            await wait_for(paused, "the engine to pause on the key pressed in the browser")
            return text


def test_served_page_shows_the_conductor_screen_and_drives_the_engine(tmp_path: Path) -> None:
    assert BROWSER is not None, "PODIUM_REQUIRE_CHROMIUM is set but chromium is not installed"
    env = dict(os.environ, PODIUM_DATA_DIR=str(tmp_path / "data"))
    db = tmp_path / "p.db"
    started = podium("run", str(SAMPLE), "--detach", "--db", str(db), env=env)
    assert started.returncode == 0, started.stderr
    served = start_serve(db, env)  # the first address it prints, token included
    debug_port = free_port()
    browser = subprocess.Popen(
        [
            BROWSER,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'browser'}",
            f"--remote-debugging-port={debug_port}",
            "--window-size=1400,900",
            # Tests never touch the network: the page's web font is not fetched.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        text = asyncio.run(conduct_in_browser(served.url, debug_port, db, env))
    finally:
        browser.kill()
        browser.wait(timeout=30)
        out = served.stop()
        podium("stop", str(db), env=env)
    assert "Traceback" not in text
    assert "Traceback" not in out and "refused" not in out
