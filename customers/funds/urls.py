"""Funds and voucher URLs, included into the ``customers`` namespace. Each action has a form
page (GET) and its own POST endpoint, so the state change is POST-only."""
from django.urls import path

from customers.funds import views as views

urlpatterns = [
    path("<int:pk>/funds/allocate/", views.allocate_form, name="funds_allocate"),
    path("<int:pk>/funds/allocate/submit/", views.allocate, name="funds_allocate_submit"),
    path("<int:pk>/funds/recover/", views.recover_form, name="funds_recover"),
    path("<int:pk>/funds/recover/submit/", views.recover, name="funds_recover_submit"),
    path("<int:pk>/vouchers/issue/", views.voucher_issue_form, name="voucher_issue"),
    path("<int:pk>/vouchers/issue/submit/", views.voucher_issue, name="voucher_issue_submit"),
    path("vouchers/", views.voucher_list, name="voucher_list"),
    path("vouchers/<int:pk>/recover/", views.voucher_recover, name="voucher_recover"),
]
