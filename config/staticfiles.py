"""Static files storage: WhiteNoise's compressed, content-hashed files."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFiles(CompressedManifestStaticFilesStorage):
    """Hashed names once `collectstatic` ran; the plain name before that.

    So a test run or a development server without collected files still renders
    its pages (served by the staticfiles finders) instead of failing on every
    `{% static %}`.
    """

    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # neither in the manifest nor collected yet
            return name
