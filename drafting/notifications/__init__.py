"""Notifications that reach people where they are: the in-app list and e-mail through an outbox."""
