#!/usr/bin/env python
"""Django's command-line utility for Signoff."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings._setup()  # config/settings.py refuses an unsafe environment
    except ImproperlyConfigured as exc:
        sys.exit(f"Signoff cannot start: {exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
