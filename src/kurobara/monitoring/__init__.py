"""Provider health monitoring: checks, status rules, scheduler, history, notifications, metrics."""
