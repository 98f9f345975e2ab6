"""factory-boy factories: the only place tests build rows by hand."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from flows.models import Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.title())


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-correct-horse")

    @factory.post_generation
    def tenants(self, create, extracted, **kwargs):
        if create and extracted:
            for tenant in extracted:
                tenant.members.add(self)

    @factory.post_generation
    def permissions(self, create, extracted, **kwargs):
        """permissions=["flows.view_execution"]: granted to the user directly."""
        if create and extracted:
            give_permissions(self, *extracted)


def give_permissions(user, *perms: str) -> None:
    """Grant "app_label.codename" permissions (and forget the cached ones)."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
