"""Widgets of the quizapp TUI, one per module; they know nothing about the store."""
