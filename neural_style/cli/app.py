"""The ``neural-style`` group: every failure as one line, and the exit code of each kind.

The commands (one module each in this package) register on :data:`cli`. Library messages
name settings by their Python names (:func:`neural_style.errors.setting`); here they are
spelled as the options a user types (``tv_beta`` -> ``--tv-beta``).
"""

import os
import sys
import warnings

import click

from .. import __version__, signals
from ..errors import one_line, spelled
from ..io.progress import write_text

DEBUG_ENV = "NEURAL_STYLE_DEBUG"
#: Settings whose option is not ``--`` + the name with dashes.
FLAGS = {"output": "-o"}


def flag(name: str) -> str:
    """The option of a setting named in a library message: ``tv_beta`` -> ``--tv-beta``."""
    return FLAGS.get(name, "--" + name.replace("_", "-"))


def printable(message: str) -> str:
    """A message as one printable line: line breaks (a file name may hold one) written as ``\\n``,
    the bytes of a file name that is not UTF-8 (decoded by Python as lone surrogates) as ``\\xNN``."""
    message = message.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return message.replace("\r", "\\r").replace("\n", "\\n")


def echo(message) -> None:
    """Every line the commands print (on stderr: stdout is left for data), as :func:`printable`, the
    settings a library message names (a :class:`~neural_style.errors.Message`) spelled as options. A reader that
    went away (``2>&1 | head``: a broken pipe) is not an error of the run: its work and files go on."""
    write_text(sys.stderr, printable(spelled(message, flag)) + "\n")


def say(line: str) -> None:
    """A line of data on stdout (the ``--reference`` summary); a reader that went away (``| head``) is not an
    error of the run, as for :func:`echo`."""
    write_text(sys.stdout, line + "\n")


def warn(message) -> None:
    """``warning: <message>`` (the ``warn`` callback the runners take)."""
    echo("warning: " + spelled(message, flag))


def error(message) -> None:
    """``error: <message>``: an exception or a message, its settings spelled as options."""
    echo("error: " + spelled(message, flag))


def _one_line_warnings():
    """A ``warnings.showwarning`` for the command line: ``warning: <first line>`` (no source line), each
    text once per run (a library warns again for every file it decodes, as filters change between)."""
    seen = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = (spelled(message, flag).strip().splitlines() or [category.__name__])[0]
        text = text if len(text) <= 400 else text[:400].rsplit(" ", 1)[0] + " ..."  # a path may be long
        if text not in seen:
            seen.add(text)
            warn(text)
    return show


class _Command(click.Command):
    """A command that runs with torch's threads fitted to the machine's other work."""

    def invoke(self, ctx):
        ctx.meta["log_every"] = ctx.params.pop("log_every", None)  # the progress bar's (output.progress_bar)
        _require_inputs(ctx.params)  # before torch is imported: a typo is said at once, not after seconds
        from ..core.device import shared_cpu  # imports torch: only when a command runs (not for --help)

        with shared_cpu():  # fewer threads on a machine busy with other work
            return super().invoke(ctx)


def _stdin(path):
    """``-`` as ``/dev/stdin`` (where the system has it), anything else as it is."""
    return type(path)("/dev/stdin") if str(path) == "-" and os.path.exists("/dev/stdin") else path


#: The commands' input arguments, and how a message names them.
_INPUTS = {"content": "content image", "styles": "style image", "style": "style image", "inputs": "input",
           "model_path": "model file", "dataset": "dataset folder"}


def _require_inputs(params) -> None:
    """Every input path the command was given exists (jcjohnson's ``a.jpg,b.jpg`` style list: its parts);
    ``-`` is standard input (``/dev/stdin``), read once like any pipe."""
    from ..core.files import require_exists  # the one existence check (imports no torch)
    from .peers import split_style_list

    for name in ("content", "inputs", "style"):
        value = params.get(name)
        if isinstance(value, (list, tuple)):
            params[name] = type(value)(_stdin(v) for v in value)
        elif value is not None:
            params[name] = _stdin(value)

    weights = params.get("weights")
    if isinstance(weights, (str, os.PathLike)) and str(weights) != "torchvision":
        require_exists(weights, f"weights file '{weights}'")
    for name, what in _INPUTS.items():
        value = params.get(name)
        values = split_style_list(value, os.path.exists) if isinstance(value, (list, tuple)) else [value]
        for path in values:
            if not isinstance(path, (str, os.PathLike)):
                continue
            parts = str(path).split(",")
            missing = [p for p in parts if not os.path.exists(p)] if not os.path.exists(path) else []
            if 0 < len(missing) < len(parts):  # a style list: name the one missing
                require_exists(missing[0], f"{what} '{missing[0]}' (in the list '{path}')")
            require_exists(path, f"{what} '{path}'")


def _options_of(command) -> set:
    return {o for p in command.params for o in (*p.opts, *p.secondary_opts)}


class _Stopped(Exception):
    """Ctrl-C, SIGTERM or SIGHUP inside a command (``interrupt``: the KeyboardInterrupt)."""

    def __init__(self, interrupt: KeyboardInterrupt):
        super().__init__(str(interrupt))
        self.interrupt = interrupt


class _Group(click.Group):
    """Every failure as one line, never a traceback (unless ``--debug``):

    * usage errors: ``neural-style stylize: error: ...``, exit 2;
    * a :class:`~neural_style.errors.NeuralStyleError`: ``error: ...`` with its exit code;
    * an OS error (no space, permission, read-only file system): ``error: ...`` naming the path, exit 1;
    * Ctrl-C: ``interrupted``, exit 130; SIGTERM and SIGHUP stop the same way, exit 128 + the signal;
    * anything else: ``internal error: ...; run with --debug for the traceback``, exit 1.
    """

    command_class = _Command

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in args or os.environ.get(DEBUG_ENV, "") not in ("", "0")
        args = [a for a in args if a != "--debug"]  # accepted anywhere on the line
        with signals.interrupt_on_termination(), warnings.catch_warnings():
            warnings.showwarning = _one_line_warnings()  # a library's multi-line warning: one line of ours, once
            try:
                return self._run(args, prog_name, extra)
            except Exception as exc:  # the last resort: one line unless asked for the traceback
                if debug:
                    raise
                first = one_line(exc, 200, fallback="")
                echo(f"internal error: {type(exc).__name__}: {first}; run with --debug for the traceback")
                sys.exit(1)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:  # past click, which would print a blank line for it
            raise _Stopped(exc) from exc

    def _refuse_peer_flags(self, args) -> None:
        """A peer tool's flag (``-image_size``, ``--style-image``, ``--cuda``) in one line with ours, exit 2:
        click would read ``-image_size`` as ``-i`` (:mod:`.peers`)."""
        from .peers import peer_flag

        name = next((a for a in args if a in self.commands), None)
        ours = _options_of(self.commands[name]) if name else set().union(*map(_options_of, self.commands.values()))
        found = peer_flag(args, ours)
        if found:
            flag, instead, whose = found
            where = f"neural-style {name}" if name else "neural-style"
            echo(f"{where}: error: {flag} is {instead} here (a flag of {whose}; see '{where} --help')")
            sys.exit(2)

    def _run(self, args, prog_name, extra):
        from ..errors import NeuralStyleError

        self._refuse_peer_flags(args)
        try:
            return super().main(args=args, prog_name=prog_name or "neural-style", standalone_mode=False, **extra)
        except getattr(click.exceptions, "NoArgsIsHelpError", ()) as exc:  # click >= 8.2: plain help
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "neural-style"
            hint = f" (see '{where} --help')" if exc.ctx else ""
            echo(f"{where}: error: {exc.format_message()}{hint}")
            sys.exit(2)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except NeuralStyleError as exc:
            error(exc)
            sys.exit(exc.exit_code)
        except OSError as exc:
            error(signals.describe_os_error(exc))
            sys.exit(1)
        except MemoryError as exc:  # what the checks before the work could not foresee
            error(f"out of memory{': ' + str(exc) if str(exc) else ''}: use a smaller --size, --batch-size or "
                  "--tile-size, or write a video instead of an animated image")
            sys.exit(1)
        except _Stopped as stop:
            echo(signals.stop_word(stop.interrupt))
            sys.exit(signals.exit_code(stop.interrupt))
        except (click.Abort, KeyboardInterrupt) as exc:
            echo(signals.stop_word(exc))
            sys.exit(signals.exit_code(exc))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="neural-style")
@click.option("--debug", is_flag=True, expose_value=False,
              help=f"Show the traceback of an internal error (may come anywhere on the line; or set {DEBUG_ENV}=1).")
def cli():
    """Neural image optimisation: style transfer, TV denoising and fast style networks."""


def main(argv=None):
    """Console-script entry point.

    A torchrun worker (:func:`neural_style.fast.launch.is_launched`) ends with
    ``os._exit`` once its output is flushed: DistributedDataParallel keeps the gloo process group alive
    after ``destroy_process_group`` (torch 2.x), and its threads still running while the interpreter
    and C++ statics are torn down abort the process now and then (SIGABRT, "terminate called without
    an active exception"; pytorch/pytorch#179291), which fails the whole run after its model was written.
    """
    from ..fast.launch import is_launched  # no torch import: decided from the environment alone
    if not is_launched():
        cli.main(args=argv, prog_name="neural-style")
        return
    code = 0
    try:
        cli.main(args=argv, prog_name="neural-style")
    except SystemExit as exc:  # the commands exit with an int (or None: 0)
        code = exc.code or 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
