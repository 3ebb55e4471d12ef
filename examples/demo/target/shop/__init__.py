"""Corner Shop: the cart, the catalogue's pages and product URLs."""
