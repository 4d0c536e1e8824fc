"""signal-audit: is your server-side ad tracking actually working?"""

__version__ = "0.1.0"
