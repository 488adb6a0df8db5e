"""The sandbox: the real bot against the emulator, with a sample coalition and a console."""
