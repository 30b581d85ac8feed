"""Users: accounts, password hashing, tokens, auth dependencies and routes."""
