"""factory-boy factories: the only place tests build rows by hand."""

import factory
from django.contrib.auth import get_user_model

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
