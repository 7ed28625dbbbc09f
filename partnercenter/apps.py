from django.apps import AppConfig


class PartnerCenterConfig(AppConfig):
    name = "partnercenter"
    verbose_name = "Partner Center"

    def ready(self):
        from partnercenter import checks  # noqa: F401  (registers the deploy checks)
