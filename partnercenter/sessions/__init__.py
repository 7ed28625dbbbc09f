"""Session engines (``SESSION_ENGINE``): Django's database and cached-database sessions, each
written once when a sign-in gives the session its new key (issue 17).

Django's ``cycle_key()`` (called by ``login()``) stores the session under a new key at once and
the session middleware stores it again at the end of the request: on a sign-in that is an
existence check of the new key, an INSERT and an UPDATE, each write in a transaction of its
own. Here ``cycle_key()`` draws the new key and leaves the writing to the middleware, which
then INSERTs the session once (with its data, including the signed-in user); the old key is
deleted at once, as Django does. A new key is not looked up before it is used: the INSERT is
refused by the primary key if it exists, and ``create()`` then draws another, as Django's own
``create()`` already relies on."""
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.utils.crypto import get_random_string


class WrittenOnceOnSignIn:
    _unstored = False

    def _get_new_session_key(self):
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self):
        data = self._session
        old_key = self.session_key
        self._session_key = self._get_new_session_key()
        self._session_cache = data
        self._unstored = True
        self.modified = True
        if old_key:
            self.delete(old_key)

    def save(self, must_create=False):
        if not self._unstored:
            return super().save(must_create=must_create)
        self._unstored = False
        try:
            super().save(must_create=True)
        except CreateError:
            self.create()  # the drawn key was taken: draw another
