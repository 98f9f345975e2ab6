"""The reply to a locked-out sign-in (django-axes' AXES_LOCKOUT_CALLABLE)."""

from axes.helpers import get_cool_off
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render


def locked_out(request, response=None, credentials=None):
    """The sign-in page again, with a 429 and a sentence saying why and for how long."""
    minutes = max(1, round(get_cool_off(request).total_seconds() / 60))
    message = (
        "Too many failed sign-ins for this account from your address. "
        f"Signing in is blocked for {minutes} minute{'s' if minutes != 1 else ''}; "
        "try again later."
    )
    context = {"form": AuthenticationForm(request), "locked_out": message}
    return render(request, "registration/login.html", context, status=429)
