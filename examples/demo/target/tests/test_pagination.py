import json
import pathlib
import unittest

from shop.pagination import page, page_count

CATALOGUE = json.loads(
    (pathlib.Path(__file__).parent / "fixtures" / "catalogue.json").read_text()
)


class PaginationTest(unittest.TestCase):
    def test_twelve_products_make_three_pages_of_five(self):
        self.assertEqual(page_count(len(CATALOGUE), 5), 3)

    def test_a_page_holds_per_page_products(self):
        self.assertEqual(page(CATALOGUE, 1, per_page=5), CATALOGUE[0:5])

    def test_pages_do_not_overlap(self):
        pages = [page(CATALOGUE, n, per_page=5) for n in (1, 2, 3)]
        self.assertEqual(sum(pages, []), CATALOGUE)

    def test_there_is_no_page_zero(self):
        with self.assertRaises(ValueError):
            page(CATALOGUE, 0)
