"""Template context shared by every page."""
from django.contrib.auth.context_processors import PermLookupDict, PermWrapper


class _PagePermLookupDict(PermLookupDict):
    def __init__(self, user, app_label, answers):
        super().__init__(user, app_label)
        self.answers = answers

    def __getitem__(self, perm_name):
        perm = f"{self.app_label}.{perm_name}"
        if perm not in self.answers:
            self.answers[perm] = self.user.has_perm(perm)
        return self.answers[perm]


class PagePermWrapper(PermWrapper):
    """``perms`` that asks the user once per permission per page. A list checks the same few
    permissions on every row (the Operation menu), and each ``has_perm`` walks every
    authentication backend."""

    def __init__(self, user):
        super().__init__(user)
        self.answers = {}

    def __getitem__(self, app_label):
        return _PagePermLookupDict(self.user, app_label, self.answers)


def page_perms(request):
    """Replaces the ``perms`` of ``django.contrib.auth.context_processors.auth`` (listed
    before this one, and required by the admin) with a :class:`PagePermWrapper`."""
    user = getattr(request, "user", None)
    return {"perms": PagePermWrapper(user)} if user is not None else {}


def portal(request):
    user = getattr(request, "user", None)
    partner = user.partner if user is not None and user.is_authenticated and user.is_member else None
    return {"current_partner": partner}
