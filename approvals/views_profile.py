"""The signed-in person's profile: the zone their times are shown in."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from approvals import zones
from approvals.models import Profile

BROWSER = ("", "Your browser's zone")


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Times on every page are shown in this zone.",
    )

    class Meta:
        model = Profile
        fields = ["time_zone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [BROWSER, *zones.choices()]


@login_required
def profile(request):
    mine, _ = Profile.objects.get_or_create(user=request.user)
    form = ProfileForm(request.POST or None, instance=mine)
    if request.method == "POST" and form.is_valid():
        form.save()
        zone = form.cleaned_data["time_zone"] or "your browser's zone"
        messages.success(request, f"Times are now shown in {zone}.")
        return redirect("approvals:profile")
    page = {
        "form": form,
        "browser_zone": request.COOKIES.get(zones.COOKIE, ""),
        "browser_zone_valid": zones.valid(request.COOKIES.get(zones.COOKIE)),
    }
    return render(request, "approvals/profile.html", page)
