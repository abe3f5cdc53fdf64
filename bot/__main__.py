"""`python -m bot` is the same as the `deskwatch` console script."""

from bot.cli import main

main()
