"""Product URLs: "Rock & Roll T-shirt" becomes /p/rock-roll-t-shirt."""

import re


def slugify(name):
    slug = re.sub(r"[^a-z0-9]", "-", name.lower())
    return slug.strip("-")


def product_url(name):
    return "/p/" + slugify(name)
