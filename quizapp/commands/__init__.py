"""Subcommands of the ``quizapp`` CLI, one module per feature (see ``quizapp.cli``)."""
