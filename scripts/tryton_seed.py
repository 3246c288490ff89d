#!/usr/bin/env python3
"""Seeds a Tryton 8.2 database (modules activated by scripts/tryton-up.sh) with the data the
MES integration tests expect, through proteus in-process (no trytond server needed):

    <venv>/bin/python scripts/tryton_seed.py -c trytond.conf -d mes --summary seed.json

Every record is looked up by a stable name first and made only when missing, so a second run,
or a run after one that broke half-way, creates nothing twice. The summary (JSON, ids by
name) goes to --summary and to stdout.

  company       MES Test Manufacturing (USD)
  employees     Operator One, Operator Two
  user mes      groups Production, Stock, Timesheet Administration; both employees
                (the context key 'employee' picks who ran or finished a cycle)
  products      SH-100 Drive Shaft (producible, u); raw materials RM-C45 steel bar (kg),
                RM-6204 bearing (u)
  BOM           1 u SH-100 <- 1.25 kg RM-C45 + 2 u RM-6204
  work centres  PLANT-1 (root) > LATHE-02 Turning 45/h, CNC-01 Milling 60/h,
                QC-01 Inspection 5/cycle: one per category, so the centre Tryton picks
                for each routing step is always the same
  routing       10 OP10 Turning (timesheet), 20 OP20 Milling keyway,
                30 OP30 Final inspection (timesheet)
  stock         1000 kg RM-C45 and 500 u RM-6204 in the storage location STO
  productions   MO-WAITING qty 10 waiting, MO-ASSIGNED qty 5 assigned (stock reserved),
                MO-DRAFT qty 20 draft
"""
import argparse
import datetime as dt
import json
import sys
from decimal import Decimal

from proteus import Model, Wizard, config as proteus_config

COMPANY = 'MES Test Manufacturing'
GROUPS = [('production', 'group_production'), ('stock', 'group_stock'),
    ('timesheet', 'group_timesheet_admin')]
CENTRES = [  # name, category, cost per unit of the method, method
    ('LATHE-02', 'Turning', '45', 'hour'),
    ('CNC-01', 'Milling', '60', 'hour'),
    ('QC-01', 'Inspection', '5', 'cycle')]
STEPS = [  # sequence, operation, category, timesheet
    (10, 'OP10 Turning', 'Turning', True),
    (20, 'OP20 Milling keyway', 'Milling', False),
    (30, 'OP30 Final inspection', 'Inspection', True)]
ORDERS = [  # reference, quantity, target state, days until due
    ('MO-WAITING', 10, 'waiting', 3),
    ('MO-ASSIGNED', 5, 'assigned', 2),
    ('MO-DRAFT', 20, 'draft', 7)]


def one(model, domain, make=None):
    """The record matching domain; made by make() when there is none."""
    found = Model.get(model).find(domain, limit=1)
    if found:
        return found[0]
    if make is None:
        sys.exit(f'seed: no {model} matches {domain}')
    record = make(Model.get(model))
    record.save()
    return record


def reload_context(config):
    config._context = Model.get('res.user').get_preferences(True, {})


def company_of(config):
    def make_usd(Currency):
        usd = Currency(name='U.S. Dollar', symbol='$', code='USD', rounding=Decimal('0.01'))
        usd.rates.new(date=dt.date(2000, 1, 1), rate=Decimal(1))
        return usd
    usd = one('currency.currency', [('code', '=', 'USD')], make_usd)
    found = Model.get('company.company').find([('party.name', '=', COMPANY)])
    if not found:
        party = one('party.party', [('name', '=', COMPANY)], lambda P: P(name=COMPANY))
        wizard = Wizard('company.company.config')
        wizard.execute('company')
        wizard.form.party = party
        wizard.form.currency = usd
        wizard.execute('add')   # also makes it admin's current company
        found = Model.get('company.company').find([('party.name', '=', COMPANY)])
    reload_context(config)      # company (and employee) in the context from here on
    return found[0]


def employee(company, name):
    party = one('party.party', [('name', '=', name)], lambda P: P(name=name))
    return one('company.employee', [('party', '=', party.id)],
        lambda E: E(party=party, company=company))


def mes_user(company, employees, password):
    User = Model.get('res.user')
    user = one('res.user', [('login', '=', 'mes')],
        lambda U: U(name='MES integration', login='mes', password=password))
    Group, Company, Employee = (Model.get(m) for m in
        ('res.group', 'company.company', 'company.employee'))
    ModelData = Model.get('ir.model.data')
    # admin is an administrator by flag in 8.x, not by groups: name the groups explicitly.
    for module, xml_id in GROUPS:
        group_id = ModelData.get_id(module, xml_id, {})
        if group_id not in [g.id for g in user.groups]:
            user.groups.append(Group(group_id))
    if company.id not in [c.id for c in user.companies]:
        user.companies.append(Company(company.id))
    user.company = Company(company.id)
    for e in employees:
        if e.id not in [x.id for x in user.employees]:
            user.employees.append(Employee(e.id))
    user.employee = Employee(employees[0].id)
    user.save()
    return User(user.id)


def product(code, name, unit, list_price, cost_price, producible=False):
    found = Model.get('product.product').find([('code', '=', code)])
    if found:
        return found[0]
    template = Model.get('product.template')(name=name, code=code, type='goods',
        default_uom=unit, producible=producible, list_price=Decimal(list_price))
    template.products[0].cost_price = Decimal(cost_price)
    template.save()
    return template.products[0]


def main():
    parser = argparse.ArgumentParser(description='Seeds the MES test data into Tryton 8.2.')
    parser.add_argument('-c', '--config', required=True, help='trytond configuration file')
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--mes-password', default='mes-erp-test-1',
        help="password of the user mes (at least 8 characters, not the login)")
    parser.add_argument('--summary', help='also write the JSON summary to this file')
    args = parser.parse_args()
    config = proteus_config.set_trytond(database=args.database, user='admin',
        config_file=args.config)

    company = company_of(config)
    operators = [employee(company, 'Operator One'), employee(company, 'Operator Two')]
    user = mes_user(company, operators, args.mes_password)

    unit = one('product.uom', [('symbol', '=', 'u')])
    kg = one('product.uom', [('symbol', '=', 'kg')])
    shaft = product('SH-100', 'Drive Shaft SH-100', unit, '120', '0', producible=True)
    steel = product('RM-C45', 'Steel bar C45 D40', kg, '4', '2.5')
    bearing = product('RM-6204', 'Bearing 6204-2RS', unit, '6', '3.2')

    def make_bom(BOM):
        bom = BOM(name='SH-100 BOM')
        bom.inputs.new(product=steel, quantity=1.25, unit=kg)
        bom.inputs.new(product=bearing, quantity=2, unit=unit)
        bom.outputs.new(product=shaft, quantity=1, unit=unit)
        return bom
    bom = one('production.bom', [('name', '=', 'SH-100 BOM')], make_bom)

    categories = {name: one('production.work.center.category', [('name', '=', name)],
            lambda C, name=name: C(name=name))
        for name in ['Turning', 'Milling', 'Inspection']}
    plant = one('production.work.center', [('name', '=', 'PLANT-1')],
        lambda W: W(name='PLANT-1'))
    centres = {'PLANT-1': plant}
    for name, category, cost, method in CENTRES:
        centres[name] = one('production.work.center', [('name', '=', name)],
            lambda W, name=name, category=category, cost=cost, method=method: W(
                name=name, parent=plant, category=categories[category],
                cost_price=Decimal(cost), cost_method=method))

    operations = {name: one('production.routing.operation', [('name', '=', name)],
            lambda O, name=name, category=category, timesheet=timesheet: O(
                name=name, work_center_category=categories[category],
                timesheet_available=timesheet))
        for _, name, category, timesheet in STEPS}

    def make_routing(Routing):
        routing = Routing(name='SH-100 routing')
        routing.boms.append(Model.get('production.bom')(bom.id))
        for sequence, name, _, _ in STEPS:
            routing.steps.new(operation=operations[name], sequence=sequence)
        return routing
    routing = one('production.routing', [('name', '=', 'SH-100 routing')], make_routing)
    if not shaft.boms:
        shaft.boms.new(bom=bom, routing=routing)
        shaft.save()

    storage = one('stock.location', [('code', '=', 'STO')])
    Inventory = Model.get('stock.inventory')
    if not Inventory.find([('location', '=', storage.id), ('state', '=', 'done')]):
        pending = Inventory.find([('location', '=', storage.id), ('state', '=', 'draft')])
        inventory = pending[0] if pending else Inventory(location=storage)
        if not inventory.lines:
            inventory.lines.new(product=steel, quantity=1000)
            inventory.lines.new(product=bearing, quantity=500)
        inventory.click('confirm')

    today = dt.date.today()
    productions = []
    for reference, quantity, target, days in ORDERS:
        def make_production(Production, quantity=quantity, days=days, reference=reference):
            # In this order, so that proteus runs the on_changes that explode the BOM.
            production = Production(reference=reference, product=shaft, bom=bom,
                routing=routing, work_center=plant, unit=unit)
            production.quantity = quantity
            production.planned_date = today + dt.timedelta(days=days)
            production.planned_start_date = today + dt.timedelta(days=days - 1)
            return production
        production = one('production', [('reference', '=', reference)], make_production)
        if target in ('waiting', 'assigned') and production.state == 'draft':
            production.click('wait')      # numbers it and makes one work per routing step
        if target == 'assigned' and production.state == 'waiting':
            production.click('assign_try')
        productions.append(Model.get('production')(production.id))

    locations = Model.get('stock.location').find([('code', '!=', None)])
    summary = {
        'company': company.id,
        'users': {'admin': one('res.user', [('login', '=', 'admin')]).id, 'mes': user.id},
        'employees': {e.rec_name: e.id for e in operators},
        'products': {p.code: p.id for p in (shaft, steel, bearing)},
        'units': {'u': unit.id, 'kg': kg.id},
        'bom': bom.id,
        'routing': routing.id,
        'work_center_categories': {n: c.id for n, c in categories.items()},
        'work_centers': {n: c.id for n, c in centres.items()},
        'operations': {n: o.id for n, o in operations.items()},
        'locations': {l.code: l.id for l in locations},
        'productions': {p.reference: {
                'id': p.id, 'number': p.number, 'state': p.state, 'quantity': p.quantity,
                'works': [{'id': w.id, 'operation': w.operation.name,
                        'work_center': w.work_center.name if w.work_center else None,
                        'state': w.state} for w in p.works]}
            for p in productions},
        }
    text = json.dumps(summary, indent=2, sort_keys=True)
    if args.summary:
        with open(args.summary, 'w') as out:
            out.write(text + '\n')
    print(text)


if __name__ == '__main__':
    main()
