"""`quizapp serve`: the page is served over HTTP, and a real browser (headless Chromium,
driven over the DevTools protocol) starts the app, opens a screen with a key press and takes
screenshots, saved in the test's output folder."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@contextmanager
def serving(home: Path, port: int, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "quizapp",
            "serve",
            "--home",
            str(home),
            "--port",
            str(port),
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        yield server
    finally:
        server.terminate()
        try:
            server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate(timeout=10)


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return None


def test_serve_answers_http_on_localhost(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path / "home", port) as server:
        url = f"http://127.0.0.1:{port}/"
        wait_for(lambda: fetch(url) is not None, 20, "the server")
        page = fetch(url) or ""
        assert "<title>" in page.lower() or "textual" in page.lower()
        assert "quizapp" in page
    assert server.returncode is not None


def test_serve_warns_when_bound_beyond_this_machine(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path / "home", port, "--host", "0.0.0.0") as server:
        wait_for(lambda: fetch(f"http://127.0.0.1:{port}/") is not None, 20, "the server")
        server.terminate()
        _, err = server.communicate(timeout=10)
    assert err is not None and b"anyone who can reach this address" in err


class DevTools:
    """The few DevTools-protocol calls this test needs, over one websocket."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.ws.send_str(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads((await asyncio.wait_for(self.ws.receive(), 20)).data)
            if message.get("id") == self.next_id:
                return dict(message.get("result", {}))

    async def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode((await self.call("Page.captureScreenshot"))["data"])
        path.write_bytes(data)
        return data

    async def screenshot_unlike(self, before: bytes, path: Path, timeout: float = 30) -> bytes:
        """The first screenshot that differs from ``before`` (the page has redrawn)."""
        deadline = time.monotonic() + timeout
        while True:
            shot = await self.screenshot(path)
            if shot != before or time.monotonic() > deadline:
                return shot
            await asyncio.sleep(0.5)

    async def click(self, x: int, y: int) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            await self.call(
                "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
            )

    async def key(self, char: str) -> None:
        code = f"Key{char.upper()}"
        vk = ord(char.upper())
        await self.call(
            "Input.dispatchKeyEvent",
            type="keyDown",
            key=char,
            code=code,
            text=char,
            windowsVirtualKeyCode=vk,
        )
        await self.call(
            "Input.dispatchKeyEvent", type="keyUp", key=char, code=code, windowsVirtualKeyCode=vk
        )


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")
@pytest.mark.timeout(120)
def test_a_browser_starts_the_app_and_opens_browse(tmp_path: Path) -> None:
    import aiohttp  # comes with textual-serve

    port = free_port()
    home = tmp_path / "home"
    home.mkdir()
    (home / "ui.json").write_text('{"welcome_seen": true}')  # a returning user
    shots = tmp_path / "screenshots"
    shots.mkdir()
    profile = tmp_path / "chromium-profile"
    with serving(home, port):
        url = f"http://127.0.0.1:{port}/"
        wait_for(lambda: fetch(url) is not None, 20, "the server")
        assert CHROMIUM is not None
        browser = subprocess.Popen(
            [
                *(CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"),
                *(f"--user-data-dir={profile}", "--remote-debugging-port=0"),
                *("--window-size=1100,750", "about:blank"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port_file = profile / "DevToolsActivePort"
            wait_for(port_file.exists, 30, "Chromium's DevTools port")
            wait_for(lambda: port_file.read_text().strip() != "", 10, "the port number")
            devtools_port = int(port_file.read_text().split()[0])
            pages = json.loads(fetch(f"http://127.0.0.1:{devtools_port}/json/list") or "[]")
            target = next(p for p in pages if p.get("type") == "page")

            async def drive() -> list[bytes]:
                async with aiohttp.ClientSession() as session:
                    ws = await session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
                    tools = DevTools(ws)
                    await tools.call("Page.enable")
                    await tools.call("Page.navigate", url=url)
                    await asyncio.sleep(2)
                    splash = await tools.screenshot(shots / "1-splash.png")
                    # The page asks for a click before it starts a session.
                    for kind in ("mousePressed", "mouseReleased"):
                        await tools.call(
                            "Input.dispatchMouseEvent",
                            type=kind,
                            x=550,
                            y=375,
                            button="left",
                            clickCount=1,
                        )
                    await asyncio.to_thread(
                        wait_for, (home / "progress.db").exists, 30, "the app's database"
                    )
                    await asyncio.sleep(3)  # let Home fill in its numbers
                    started = await tools.screenshot(shots / "2-home.png")
                    await tools.click(550, 500)  # an empty part of Home: focus the terminal
                    await tools.key("b")
                    browse = await tools.screenshot_unlike(started, shots / "3-browse.png")
                    await ws.close()
                    return [splash, started, browse]

            splash, started, browse = asyncio.run(drive())
        finally:
            browser.terminate()
            try:
                browser.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(browser.pid, 9)
    # The app really ran behind the page (it opened its database in the served home), and
    # each step changed what the browser showed.
    assert (home / "progress.db").exists()
    assert started != browse  # the key press reached the app and it drew Browse
    assert all(len(png) > 2_000 for png in (splash, started, browse))
