"""The shopping cart. Money is in cents, so 5000 is 50.00."""

FREE_SHIPPING_FROM = 5000  # orders of 50.00 or more ship free
SHIPPING = 495


class Cart:
    def __init__(self):
        self.lines = []

    def add(self, name, price, quantity=1):
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        self.lines.append((name, price, quantity))

    def subtotal(self):
        return sum(price * quantity for _, price, quantity in self.lines)

    def shipping(self):
        if not self.lines:
            return 0
        if self.subtotal() > FREE_SHIPPING_FROM:
            return 0
        return SHIPPING

    def total(self):
        return self.subtotal() + self.shipping()
