"""The studio in a real browser (issue 28): Playwright drives Debian's chromium against the installed
command (``neural-style studio`` in its own process, on a free port).

Without Gradio, Playwright or a chromium executable these tests skip, saying which is missing
(``.ci/run`` installs chromium with apt-get). Each test saves a screenshot of its tab in
``$NEURAL_STYLE_SCREENSHOTS`` (default: the test's temporary folder); docs/images/studio-*.png are
these screenshots.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("gradio", reason="the studio needs Gradio: pip install 'neural-style[studio]'")
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright: pip install playwright")

from tests.conftest import ROOT, shared_dir  # noqa: E402

CHROMIUM = next((p for p in (os.environ.get("NEURAL_STYLE_CHROMIUM"), shutil.which("chromium"),
                             shutil.which("chromium-browser")) if p), None)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium executable (apt-get install chromium)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, vgg16_file):
    """The studio on a free port, with a models folder (a tiny network) and a dataset of four photos."""
    from tests.fast.test_training import _tiny_model

    root = tmp_path_factory.mktemp("studio")
    (root / "models").mkdir()
    _tiny_model(root).rename(root / "models" / "tiny.pth")
    (root / "photos").mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (48, 64, 3), np.uint8)).save(root / "photos" / f"p{i}.png")
    proc, url, log = _serve(root, vgg16_file)
    yield url, root
    proc.terminate()  # SIGTERM, as a service manager stops it: the server closes and its files go
    _closed_cleanly(proc, root, log)


def _serve(root: Path, vgg16_file: Path):
    """``neural-style studio`` started in ``root`` (its temporary files in ``root/tmp``): (process, url, log)."""
    real = shared_dir() / "weights" / "vgg16-hed.pth"
    weights = real if real.is_file() else vgg16_file  # real features make the screenshots worth looking at
    port = _free_port()
    (root / "tmp").mkdir(exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="2", PYTHONPATH=str(ROOT), TMPDIR=str(root / "tmp"))
    log = open(root / "server.log", "wb")  # a file, not a pipe nobody reads: a full pipe would block the server
    command = [sys.executable, "-m", "neural_style", "studio", "--port", str(port), "--device", "cpu", "--weights",
               str(weights)]
    if (root / "models").is_dir():
        command += ["--models", str(root / "models"), "--dataset", str(root / "photos")]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url, log
        except OSError:
            assert proc.poll() is None, (root / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the studio did not answer within 120 s"
            time.sleep(0.3)


def _closed_cleanly(proc, root: Path, log) -> None:
    """The server ended by itself (exit 0) within a minute of a signal, leaving no file of its own."""
    try:
        assert proc.wait(timeout=60) == 0, (root / "server.log").read_text()[-3000:]
    finally:
        proc.kill()
        log.close()
    left = [p.name for p in (root / "tmp").iterdir() if not p.name.startswith("torchinductor")]  # torch's own cache
    assert left == []  # uploads, results and Gradio's copies removed
    assert "Traceback" not in (root / "server.log").read_text()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    started = time.perf_counter()
    page.goto(server[0])
    page.wait_for_selector("#stylize-run")
    page.load_seconds = time.perf_counter() - started
    yield page
    page.close()


def _screenshot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("NEURAL_STYLE_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"studio-{name}.png"), full_page=True)


def _images(tmp_path: Path):
    content, style = tmp_path / "content.png", tmp_path / "style.png"
    for path, seed in ((content, 1), (style, 2)):
        source = shared_dir() / "images" / ("content/tubingen.jpg" if seed == 1 else "style/starry_night.jpg")
        if source.is_file():
            Image.open(source).convert("RGB").save(path)
        else:
            Image.fromarray(np.random.default_rng(seed).integers(0, 256, (96, 128, 3), np.uint8)).save(path)
    return content, style


def _fill(page, selector: str, value: str) -> None:
    page.locator(f"{selector} input, {selector} textarea").first.fill(value)


def _wait(page, done, what: str, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        errors = page.locator(".toast-body").all_inner_texts()
        assert not errors, errors
        if time.monotonic() > deadline:
            page.screenshot(path=str(Path(os.environ.get("NEURAL_STYLE_SCREENSHOTS", "/tmp")) / "studio-failed.png"))
            raise AssertionError(f"no {what} within {seconds} s: {page.locator('body').inner_text()[:2000]}")
        time.sleep(0.2)


def _download_png(page, selector: str, tmp_path: Path) -> Image.Image:
    with page.expect_download() as info:
        page.locator(f"{selector} a[download='stylized.png']").first.click()
    path = tmp_path / "downloaded.png"
    info.value.save_as(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(path)


def _start_stylize(page, tmp_path: Path, iterations: str):
    content, style = _images(tmp_path)
    page.locator("#stylize-content input[type=file]").set_input_files(str(content))
    page.locator("#stylize-styles input[type=file]").set_input_files(str(style))
    _fill(page, "#stylize-size", "128")
    _fill(page, "#stylize-iterations", iterations)
    page.wait_for_timeout(500)
    page.click("#stylize-run")
    return Image.open(content).size


def _choose(page, selector: str, option: str) -> None:
    """Pick ``option`` in a dropdown (its list opens with a short animation)."""
    page.locator(f"{selector} input").click()
    page.wait_for_timeout(700)
    page.locator("ul.options li, [role=option]").filter(has_text=option).first.click()


def _previews(page):
    return page.locator("#stylize-preview img").evaluate_all("images => images.map(i => i.src)")


def test_stylize_shows_the_image_changing_and_downloads_the_full_size_png(page, tmp_path, server):
    print(f"page load to interactive: {page.load_seconds:.2f} s")
    assert page.load_seconds < 10  # the target (2 s) is measured and printed; a loaded CI machine is slower
    width, height = _start_stylize(page, tmp_path, "20")
    seen = set()

    def finished():
        seen.update(_previews(page))
        return page.locator("#stylize-files a[download='stylized.png']").count() > 0
    _wait(page, finished, "result")
    assert len(seen) >= 3, len(seen)  # the preview changed at least twice, and the final image came
    assert page.locator("#stylize-status").inner_text().startswith("done in")
    page.wait_for_timeout(1000)  # the action removes its job's folder just after its last update
    assert list((server[1] / "tmp").glob("neural-style-studio-*/job-*")) == []
    image = _download_png(page, "#stylize-files", tmp_path)  # the page's own copy: the job's folder is gone
    assert image.size == ((128, round(128 * height / width)) if width >= height else (round(128 * width / height), 128))
    _screenshot(page, "stylize", tmp_path)


def test_stop_keeps_the_best_image_so_far(page, tmp_path):
    _start_stylize(page, tmp_path, "100000")
    _wait(page, lambda: len(_previews(page)) > 0 and "iteration" in page.locator("#stylize-status").inner_text(),
          "preview")
    page.click("#stylize-stop")
    _wait(page, lambda: page.locator("#stylize-files a[download='stylized.png']").count() > 0, "result after Stop")
    assert "kept the best image so far" in page.locator("#stylize-status").inner_text()
    assert max(_download_png(page, "#stylize-files", tmp_path).size) == 128


@pytest.mark.parametrize("which", ["content", "style"])
def test_a_corrupt_upload_is_one_line_in_the_page(page, tmp_path, which):
    bad, (content, style) = tmp_path / "broken.png", _images(tmp_path)
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    page.locator("#stylize-content input[type=file]").set_input_files(str(bad if which == "content" else content))
    page.locator("#stylize-styles input[type=file]").set_input_files(str(bad if which == "style" else style))
    page.wait_for_timeout(500)
    page.click("#stylize-run")
    page.wait_for_selector(".toast-body", timeout=60_000)
    errors = page.locator(".toast-body").all_inner_texts()
    assert any(f"the {which} image is not an image Pillow can read" in e for e in errors), errors
    assert all("Traceback" not in e and "neural-style-studio-" not in e for e in errors)


def test_denoise_compares_before_and_after_and_scores_against_the_reference(page, tmp_path):
    rng = np.random.default_rng(0)
    clean = np.clip(np.kron(rng.random((12, 16)), np.ones((8, 8))) * 255, 0, 255).astype(np.uint8)
    Image.fromarray(clean).save(tmp_path / "clean.png")
    Image.fromarray(np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).astype(np.uint8)).save(
        tmp_path / "noisy.png")
    page.get_by_role("tab", name="Denoise").click()
    page.locator("#denoise-input input[type=file]").set_input_files(str(tmp_path / "noisy.png"))
    page.locator("#denoise-reference input[type=file]").set_input_files(str(tmp_path / "clean.png"))
    page.wait_for_timeout(500)
    page.click("#denoise-run")
    _wait(page, lambda: page.locator("#denoise-files a[download='denoised.png']").count() > 0, "denoised image")
    status = page.locator("#denoise-status").inner_text()
    assert "PSNR" in status and "SSIM" in status, status
    assert page.locator("#denoise-compare img").count() >= 2
    _screenshot(page, "denoise", tmp_path)


def test_a_fast_network_is_applied_and_one_is_trained(page, tmp_path, server):
    content, style = _images(tmp_path)
    page.get_by_role("tab", name="Fast networks").click()
    _choose(page, "#fast-model", "tiny.pth")
    page.locator("#fast-input input[type=file]").set_input_files(str(content))
    page.wait_for_timeout(500)
    page.click("#fast-apply")
    _wait(page, lambda: page.locator("#fast-files a[download='stylized.png']").count() > 0, "stylised image")
    page.locator("#train-style input[type=file]").set_input_files(str(style))
    _fill(page, "#train-name", "trained")
    _fill(page, "#train-size", "32")
    _fill(page, "#train-iterations", "4")
    _fill(page, "#train-every", "2")
    page.wait_for_timeout(500)
    page.click("#train-run")
    _wait(page, lambda: "wrote trained.pth" in page.locator("#fast-status").inner_text(), "trained network")
    assert (server[1] / "models" / "trained.pth").is_file()
    page.locator("#fast-model input").click()
    page.wait_for_timeout(700)
    assert page.locator("ul.options li, [role=option]").filter(has_text="trained.pth").count() == 1
    page.keyboard.press("Escape")
    _screenshot(page, "fast", tmp_path)


def test_one_job_at_a_time_and_the_next_sees_its_place(browser, server, tmp_path):
    """A second job (another browser) waits while a run goes on, told its place; Stop lets it go."""
    first = browser.new_page(viewport={"width": 1400, "height": 1100})
    second = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        first.goto(server[0])
        first.wait_for_selector("#stylize-run")
        _start_stylize(first, tmp_path, "100000")
        _wait(first, lambda: "iteration" in first.locator("#stylize-status").inner_text(), "a running job")
        rng = np.random.default_rng(0)
        Image.fromarray(rng.integers(0, 256, (32, 32), np.uint8)).save(tmp_path / "noisy.png")
        second.goto(server[0])
        second.wait_for_selector("#stylize-run")
        second.get_by_role("tab", name="Denoise").click()
        second.locator("#denoise-input input[type=file]").set_input_files(str(tmp_path / "noisy.png"))
        second.wait_for_timeout(500)
        second.click("#denoise-run")
        _wait(second, lambda: any("queue: 1/1" in t for t in
                                  second.locator("[data-testid=status-tracker]").all_inner_texts()), "queue place")
        assert second.locator("#denoise-files a[download='denoised.png']").count() == 0
        first.click("#stylize-stop")
        _wait(second, lambda: second.locator("#denoise-files a[download='denoised.png']").count() > 0, "second job")
        assert "kept the best image so far" in first.locator("#stylize-status").inner_text()
    finally:
        first.close()
        second.close()


def test_ctrl_c_stops_the_running_job_and_the_server(browser, tmp_path, vgg16_file):
    import signal

    proc, url, log = _serve(tmp_path, vgg16_file)
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        page.goto(url)
        page.wait_for_selector("#stylize-run")
        _start_stylize(page, tmp_path, "100000")
        _wait(page, lambda: "iteration" in page.locator("#stylize-status").inner_text(), "a running job")
        proc.send_signal(signal.SIGINT)  # with the page open, as a user would (closing it first raced the job's stop)
        proc.wait(timeout=60)
    finally:
        page.close()
    _closed_cleanly(proc, tmp_path, log)
