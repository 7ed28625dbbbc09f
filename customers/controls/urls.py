"""Reseller controls URLs, included into the ``customers`` namespace. Each action has a form
page (GET) and its own POST endpoint."""
from django.urls import path

from customers.controls import views

urlpatterns = [
    path("<int:pk>/freeze/", views.freeze_form, {"action": "freeze"}, name="controls_freeze"),
    path("<int:pk>/freeze/submit/", views.freeze, name="controls_freeze_submit"),
    path("<int:pk>/unfreeze/", views.freeze_form, {"action": "unfreeze"}, name="controls_unfreeze"),
    path("<int:pk>/unfreeze/submit/", views.unfreeze, name="controls_unfreeze_submit"),
    path("<int:pk>/budget/", views.budget_form, name="controls_budget"),
    path("<int:pk>/budget/submit/", views.budget, name="controls_budget_submit"),
    path("controls/settings/", views.controls_settings, name="controls_settings"),
    path("batches/", views.batch, name="batch"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/csv/", views.batch_csv, name="batch_csv"),
    path("batches/<int:pk>/cancel/", views.batch_cancel, name="batch_cancel"),
    path("batches/<int:pk>/resume/", views.batch_resume, name="batch_resume"),
]
