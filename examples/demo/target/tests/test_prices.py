import unittest

from shop.prices import parse_price


class PricesTest(unittest.TestCase):
    def test_a_typed_price_is_in_cents(self):
        self.assertEqual(parse_price("12.50"), 1250)
        self.assertEqual(parse_price("0.99"), 99)
