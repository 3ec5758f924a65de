"""Rich renderables that both front ends show (the app inside widgets, the CLI on stdout)."""
