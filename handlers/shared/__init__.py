"""What every handler shares: who and where (`common`), the one button router and its typed,
versioned callback data, the registry of free-text steps, /cancel and free text, the error
handler, and counted nouns."""
