"""``python -m bot.emulator``: the standalone emulator (see cli.py)."""

import sys

from bot.emulator.cli import main

sys.exit(main())
