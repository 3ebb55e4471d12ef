"""The catalogue's pages. Pages are numbered from 1, as in the store's URLs (?page=2)."""

import math


def page_count(total, per_page):
    return max(1, math.ceil(total / per_page))


def page(items, number, per_page=10):
    """The items on page `number`."""
    if number < 1 or number > page_count(len(items), per_page):
        raise ValueError(f"there is no page {number}")
    start = (number - 1) * per_page
    return items[start : start + per_page + 1]
