# SPDX-License-Identifier: MIT
# One worker of the order service: validates an order, renders it with the
# template engine, wraps it with textwrap, logs it with logging and
# appends it to its own output file.
import logging
import os
import shlex
import textwrap

import thirdparty

from app import orders

PAGE = thirdparty.Template(
    "Order {{ id|pad }} for {{ customer|title }}\n"
    "{% for item in items %} - {{ item.name|upper }} x{{ item.qty }} at {{ item.price }}\n"
    "{% endfor %}Total: {{ total }}\n")
SCHEMA = {"id": (int, 0, 10 ** 9), "customer": (str, 1, 64), "url": str,
          "total": str,
          "items": [{"name": (str, 1, 32), "qty": (int, 1, 100), "price": str}]}


class Service(object):
    def __init__(self, name, workdir):
        self.path = os.path.join(workdir, name + ".out")
        self.logpath = os.path.join(workdir, name + ".log")
        self.log = logging.getLogger("app." + name)
        handler = logging.FileHandler(self.logpath)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.log.addHandler(handler)
        self.log.setLevel(logging.INFO)
        self.log.propagate = False
        self.out = open(self.path, "w")
        self.checked = 0

    def handle(self, url):
        order = orders.parse(url)
        self.checked += thirdparty.validate(order, SCHEMA)
        text = PAGE.render(order)
        words = shlex.split(order["customer"].replace("&", "and"))
        self.out.write(textwrap.fill(text, 60) + "\n")
        self.log.info("order %d for %s: %d items, %s, digest %08x", order["id"],
                      "-".join(words), len(order["items"]), order["total"],
                      thirdparty.digest(thirdparty.encode(order)))

    def close(self):
        self.out.close()
        for handler in list(self.log.handlers):
            handler.close()
            self.log.removeHandler(handler)
