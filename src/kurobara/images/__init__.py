"""Images through the server: signed tokens, the proxy, its disk cache (DESIGN §2)."""
