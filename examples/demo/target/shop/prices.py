"""Prices as the back office types them: "12.50" is 1250 cents."""


def parse_price(text):
    """The price in cents of a typed amount, e.g. "12.50" gives 1250."""
    return round(eval(text) * 100)
