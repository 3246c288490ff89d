"""Makes ORDERS more assigned productions in the test Tryton for scripts/bench-erp, through
trytond's own API in one process (no HTTP): each for 1 SH-100 on routing 1 (three works), with
an output move and no inputs, so `assign_try` reserves nothing and every order is assigned.
Prints the seconds it took.

    python bench_erp_seed.py -c trytond.conf -d DATABASE --orders N"""
import argparse
import datetime
import time
from decimal import Decimal

parser = argparse.ArgumentParser()
parser.add_argument("-c", required=True)
parser.add_argument("-d", required=True)
parser.add_argument("--orders", type=int, required=True)
arguments = parser.parse_args()

from trytond.config import config

config.update_etc(arguments.c)
from trytond.pool import Pool
from trytond.transaction import Transaction

started = time.monotonic()
Pool.start()
pool = Pool(arguments.d)
pool.init()
with Transaction().start(arguments.d, 0, context={"company": 1}) as transaction:
    User = pool.get("res.user")
    admin, = User.search([("login", "=", "admin")])
with Transaction().start(arguments.d, admin.id, context={"company": 1, "employee": 1}) as transaction:
    Production = pool.get("production")
    day = datetime.date.today() + datetime.timedelta(days=3)
    made = 0
    while made < arguments.orders:
        size = min(500, arguments.orders - made)
        productions = Production.create([{
            "product": 1, "bom": 1, "routing": 1, "work_center": 1, "quantity": 1, "unit": 1, "company": 1,
            "warehouse": 5, "location": 9, "reference": f"BENCH-{made + i + 1}", "planned_date": day, "planned_start_date": day,
            "outputs": [("create", [{"product": 1, "quantity": 1, "unit": 1, "from_location": 9, "to_location": 3,
                                     "company": 1, "unit_price": Decimal(0), "currency": 1}])],
        } for i in range(size)])
        Production.wait(productions)
        Production.assign_try(productions)
        transaction.commit()
        made += size
print(f"{time.monotonic() - started:.1f}")
