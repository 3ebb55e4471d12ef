import unittest

from shop.cart import SHIPPING, Cart


class CartTest(unittest.TestCase):
    def test_an_empty_cart_costs_nothing(self):
        self.assertEqual(Cart().total(), 0)

    def test_small_orders_pay_shipping(self):
        cart = Cart()
        cart.add("Enamel mug", 1250, quantity=2)
        self.assertEqual(cart.total(), 2500 + SHIPPING)

    def test_an_order_of_exactly_50_ships_free(self):
        cart = Cart()
        cart.add("Poster 50 x 70", 2500, quantity=2)
        self.assertEqual(cart.shipping(), 0)
        self.assertEqual(cart.total(), 5000)

    def test_quantity_must_be_positive(self):
        with self.assertRaises(ValueError):
            Cart().add("Tote bag", 900, quantity=0)
