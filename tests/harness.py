"""The end-to-end harness is the project's sandbox (cli/sandbox.py), shared with the demo."""
from cli.sandbox import Sandbox as Harness, button_data, buttons  # noqa: F401
