import unittest

from shop.slug import product_url, slugify


class SlugTest(unittest.TestCase):
    def test_a_plain_name(self):
        self.assertEqual(slugify("Gift card"), "gift-card")

    def test_punctuation_and_spaces_make_one_dash(self):
        self.assertEqual(slugify("Rock & Roll T-shirt"), "rock-roll-t-shirt")
        self.assertEqual(slugify("Tea, green (100 g)"), "tea-green-100-g")

    def test_no_dash_at_either_end(self):
        self.assertEqual(slugify(" Gift card! "), "gift-card")

    def test_product_url(self):
        self.assertEqual(product_url("Enamel mug"), "/p/enamel-mug")
