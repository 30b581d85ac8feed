"""Reading: chapters kept as data, per-user progress, history."""
