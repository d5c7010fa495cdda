# SPDX-License-Identifier: MIT
# Requests of the order service as URLs, generated deterministically, and
# their parsing back into orders.
from fractions import Fraction

try:
    from urllib.parse import quote, urlsplit, parse_qsl
except ImportError:  # Python 2
    from urllib import quote
    from urlparse import urlsplit, parse_qsl

NAMES = ["ada lovelace", "alan turing", "grace hopper", "edsger dijkstra",
         "barbara liskov", "donald knuth", "frances allen", "ken thompson"]
ITEMS = ["bolt", "nut", "washer", "gear", "spring", "axle", "valve", "pump"]


def request(n):
    """The URL of request number N."""
    query = [("customer", NAMES[n % len(NAMES)] + " & co")]
    for k in range(2 + n % 4):
        price = "%d.%02d" % (1 + (n * 7 + k) % 40, (n * 13 + k * 29) % 100)
        query.append(("item", "%s/%d:%d:%s" % (ITEMS[(n + k) % len(ITEMS)], k,
                                               1 + (n + 3 * k) % 9, price)))
    return "/orders/%d?%s" % (n, "&".join("%s=%s" % (key, quote(val)) for key, val in query))


def parse(url):
    """The order a request URL asks for, its total as a Fraction string."""
    parts = urlsplit(url)
    order = {"id": int(parts.path.rsplit("/", 1)[1]), "items": [], "url": url}
    total = Fraction(0)
    for key, val in parse_qsl(parts.query):
        if key == "customer":
            order["customer"] = val
        else:
            name, qty, price = val.split(":")
            order["items"].append({"name": name, "qty": int(qty), "price": price})
            total += Fraction(price) * int(qty)
    order["total"] = str(total)
    return order
