"""Serving the studio: the page on a local address, its files in one temporary folder removed when
the server stops, no share link, and the running job stopped on Ctrl-C."""

import os
import shutil
import socket
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Tuple

from ..errors import InputError, Message, setting

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class StudioOptions:
    """How the studio is served.

    Attributes:
        host: the address to listen on (``127.0.0.1``: this machine only).
        port: the port (7860, Gradio's).
        auth: ``(user, password)`` asked of every visitor, or None.
        no_auth: serve another host without a password (said in a warning).
        device, weights: the runs' device and loss-network weights (as stylize's).
        models: the folder whose model files the fast-network tab offers (None: that tab applies none).
        dataset: the folder of training photos the train part uses (None: no training).
        max_upload_mb: uploads larger than this (MiB) are refused before they are stored.
    """

    host: str = "127.0.0.1"
    port: int = 7860
    auth: Optional[Tuple[str, str]] = None
    no_auth: bool = False
    device: str = "auto"
    weights: Optional[str] = None
    models: Optional[Path] = None
    dataset: Optional[Path] = None
    max_upload_mb: int = 200


def check_options(options: StudioOptions) -> None:
    """Refuse an unsafe or impossible way to serve, in one line; warn of a reachable one.

    Raises:
        InputError: another host without ``auth`` or ``no_auth``; both; a models or dataset folder
            that is not one.
    """
    if options.auth is not None and not all(options.auth):
        raise InputError(f"{setting('auth')} needs a user and a password, USER:PASSWORD: both not empty")
    if options.auth and options.no_auth:
        raise InputError(f"{setting('auth')} and {setting('no_auth')} contradict each other: give one")
    if options.host not in LOCAL_HOSTS:
        if not options.auth and not options.no_auth:
            raise InputError(f"{setting('host')} {options.host} lets other machines reach the page: give "
                             f"{setting('auth')} USER:PASSWORD (or {setting('no_auth')} on a network you trust)")
        warnings.warn(Message(f"the studio is reachable from other machines at {options.host}:{options.port}"
                              + ("" if options.auth else ", without a password")), UserWarning, stacklevel=2)
    for name in ("models", "dataset"):
        folder = getattr(options, name)
        if folder is not None and not Path(folder).is_dir():
            raise InputError(f"{setting(name)} '{folder}' is not a folder: give a folder")


def check_port(host: str, port: int) -> None:
    """Refuse, in one line, a port another program holds (Gradio's own message names its settings).

    Raises:
        InputError: the address cannot be bound.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): choose another "
                             f"{setting('port')}") from exc


def serve(options: StudioOptions, ready: Callable[[str], None] = lambda url: None) -> None:
    """Serve the page until Ctrl-C (or SIGTERM); then stop the running job and remove every file the
    studio made (uploads, results). ``ready`` is called with the page's address once it answers."""
    check_options(options)
    check_port(options.host, options.port)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    root = Path(tempfile.mkdtemp(prefix="neural-style-studio-"))
    sessions = page = None
    try:
        os.environ["GRADIO_TEMP_DIR"] = str(root / "uploads")  # Gradio's copies of uploads and results: read
        from .jobs import MainThread  # when Gradio is imported, so set first
        from .page import Sessions, build

        main = MainThread()
        sessions = Sessions(root, run_on=main.submit)
        page = build(sessions, device=options.device, weights=options.weights, models=options.models,
                     dataset=options.dataset)
        page.queue(default_concurrency_limit=1)
        page.launch(server_name=options.host, server_port=options.port, auth=options.auth, share=False,
                    max_file_size=options.max_upload_mb * 2**20, quiet=True, show_error=False, footer_links=[],
                    prevent_thread_lock=True)
        ready(f"http://{options.host}:{options.port}")
        main.serve()  # the jobs, in this thread, until Ctrl-C or SIGTERM
    finally:
        if sessions is not None:
            sessions.stop_all(wait=0)
        if page is not None:
            page.close()
        shutil.rmtree(root, ignore_errors=True)
