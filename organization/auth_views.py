"""Sign-in and sign-out. django.contrib.auth.login rotates the session key at sign-in and
logout flushes the session."""
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from organization.forms import CustomerLoginForm, MemberLoginForm


class MemberLoginView(auth_views.LoginView):
    form_class = MemberLoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class CustomerLoginView(auth_views.LoginView):
    form_class = CustomerLoginForm
    template_name = "registration/customer_login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("account_center:home")

    def get_default_redirect_url(self):
        return str(self.next_page)
