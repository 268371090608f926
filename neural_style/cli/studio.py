"""``neural-style studio``: the local web page (the ``studio`` extra)."""

from pathlib import Path

import click

from ..settings import DEFAULT_DEVICE
from .app import cli, echo

INSTALL = "pip install 'neural-style[studio]'"


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; another than this machine's needs --auth (or --no-auth).")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535))
@click.option("--auth", default=None, metavar="USER:PASSWORD", help="Ask every visitor for this user and password.")
@click.option("--no-auth", is_flag=True, help="Serve another host without a password (a network you trust).")
@click.option("--device", default=DEFAULT_DEVICE, show_default=True, metavar="auto|cpu|cuda|cuda:N|mps")
@click.option("--weights", default=None, metavar="torchvision|PATH", help="The loss network's weights, as stylize's.")
@click.option("--models", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of model files (.pth) the fast-network tab offers.")
@click.option("--dataset", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of training photos the fast-network tab trains on.")
@click.option("--max-upload-mb", default=200, show_default=True, type=click.IntRange(1),
              help="Uploads larger than this are refused before they are stored.")
def studio(host, port, auth, no_auth, device, weights, models, dataset, max_upload_mb):
    """A local web page to stylise, denoise and apply fast networks, watching the image change."""
    import importlib.util

    if importlib.util.find_spec("gradio") is None:  # not imported here: it reads its settings when imported
        raise click.UsageError(f"the studio needs Gradio: {INSTALL}")
    from ..studio.server import StudioOptions, serve

    if auth is not None and ":" not in auth:
        raise click.UsageError("--auth takes USER:PASSWORD")
    options = StudioOptions(host=host, port=port, auth=tuple(auth.split(":", 1)) if auth else None, no_auth=no_auth,
                            device=device, weights=weights, models=models, dataset=dataset,
                            max_upload_mb=max_upload_mb)
    serve(options, ready=lambda url: echo(f"neural-style studio on {url} (Ctrl-C stops it)"))
