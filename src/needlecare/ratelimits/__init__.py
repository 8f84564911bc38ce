"""Limits on public actions, counted per key per fixed window in the database
(``ratelimits.counting``), so that every server process and worker counts the same."""
