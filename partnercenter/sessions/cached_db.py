"""Cached database sessions written once on sign-in (see ``partnercenter.sessions``)."""
from django.contrib.sessions.backends import cached_db

from partnercenter.sessions import WrittenOnceOnSignIn


class SessionStore(WrittenOnceOnSignIn, cached_db.SessionStore):
    pass
