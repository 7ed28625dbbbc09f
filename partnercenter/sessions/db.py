"""Database sessions written once on sign-in (see ``partnercenter.sessions``)."""
from django.contrib.sessions.backends import db

from partnercenter.sessions import WrittenOnceOnSignIn


class SessionStore(WrittenOnceOnSignIn, db.SessionStore):
    pass
