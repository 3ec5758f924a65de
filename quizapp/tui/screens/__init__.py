"""The screens of the quizapp TUI, one module per feature."""
