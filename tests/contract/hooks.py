"""Schemathesis hooks of the contract test (tests/e2e/contract_e2e_test.cpp runs it).

Each operation is called with the token of a role that may call it, and the requests the
document calls valid are pointed at things that exist. A document can state the shape of a
request but not the state of the shop, so where the server rightly refuses a well-formed request
because of that state (a product that is not on sale, a cursor it did not issue, a window of days
that ends before it starts, an Idempotency-Key already used for another request), the valid
requests are steered to the state the test prepared; ids in paths name what the test made, so
that valid requests get past the lookup. Requests generated to be invalid are sent as drawn.

The test writes what it prepared to the JSON file named by BAZAAR_CONTRACT_FIXTURE: base_url,
tokens {admin, seller, buyer}, order_products (one per line an order may have), cart_product,
seller_product, doomed_product, order, user_to_change, user_to_delete.
"""

import datetime
import itertools
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request

import schemathesis
from schemathesis.core.parameters import ParameterLocation

FIXTURE = json.load(open(os.environ["BAZAAR_CONTRACT_FIXTURE"], encoding="utf-8"))

# Who calls what: the role each operation is tested with (public operations get no token).
ROLES = {
    "admin": [
        "listUsers",
        "updateUser",
        "deleteUser",
        "deleteProduct",
        "listOrders",
        "advanceOrderStatus",
        "getStats",
        "getSalesReport",
        "refundOrder",
    ],
    "seller": ["createProduct", "updateProduct", "setProductStock", "listMyProducts", "getMySales"],
    "buyer": [
        "getMe",
        "updateMe",
        "changePassword",
        "getCart",
        "emptyCart",
        "setCartItem",
        "removeCartItem",
        "checkOutCart",
        "placeOrder",
        "getOrder",
        "cancelOrder",
        "getOrderPayment",
        "payOrder",
        "listNotifications",
        "startPhoneVerification",
        "verifyPhone",
        "bindChat",
        "unbindChat",
    ],
}


def _bearer(role):
    class Bearer:
        def get(self, case, context):
            return FIXTURE["tokens"][role]

        def set(self, case, data, context):
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"

    Bearer.__name__ = f"{role.capitalize()}Bearer"
    return Bearer


# Operations whose security is public or optional: called without a token.
PUBLIC_OR_OPTIONAL = "registerUser"
# Not tested here (schemathesis.toml says why).
EXCLUDED = ["openWebSocket"]


@schemathesis.hook
def after_load_schema(context, schema):
    """Every operation that needs a token has a role here: a new one cannot go untested."""
    tested = {operation for operations in ROLES.values() for operation in operations}
    missing = []
    for methods in schema.raw_schema["paths"].values():
        for definition in methods.values():
            if not isinstance(definition, dict) or "operationId" not in definition:
                continue
            operation = definition["operationId"]
            needs_token = any(requirement for requirement in definition.get("security", [{}]))
            if operation in EXCLUDED or operation == PUBLIC_OR_OPTIONAL:
                continue
            if needs_token and operation not in tested:
                missing.append(operation)
    if missing:
        raise ValueError(f"no role in tests/contract/hooks.py calls {', '.join(sorted(missing))}")


for _role, _operations in ROLES.items():
    # retry_on=[]: a 401 is an answer to check, not a reason to fetch the token again.
    schemathesis.auth(refresh_interval=None, retry_on=[]).apply_to(operation_id=_operations)(
        _bearer(_role)
    )


def _get(path, role):
    request = urllib.request.Request(
        FIXTURE["base_url"] + path, headers={"Authorization": f"Bearer {FIXTURE['tokens'][role]}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


_cursors = {}


def _cursor(path, role):
    """A real next_cursor of a list (its first page of one item), or None when it has one page
    or refuses the filters (the case is then refused for them, as drawn)."""
    if path not in _cursors:
        try:
            _cursors[path] = _get(path, role).get("next_cursor")
        except urllib.error.HTTPError:
            _cursors[path] = None
    return _cursors[path]


_keys = itertools.count()
# Keys of the admin, who outlives one run on a reused database, stay apart from an earlier run's.
_RUN = f"{os.getpid():x}{int(datetime.datetime.now().timestamp()):x}"


# The rule against control characters in members an operation does not name is stated in the
# document's words only: as a (recursive) schema it makes standard client generators drop every
# operation with a body. So the extras Schemathesis adds to valid bodies get none.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _without_control(value):
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, list):
        return [_without_control(v) for v in value]
    if isinstance(value, dict):
        return {_without_control(k): _without_control(v) for k, v in value.items()}
    return value


def _positive(case, location):
    meta = case.meta
    return meta is None or not meta.is_negative_at(location)


def _operation_id(case):
    return case.operation.definition.raw.get("operationId")


def _steer_cursor(case, path, role, filters=()):
    """A cursor is valid only with the filters of the page that gave it: it is fetched with the
    case's own values of `filters`."""
    query = case.query or {}
    if "cursor" not in query or query["cursor"] == "":
        return
    carried = {"limit": "1"}
    for name in filters:
        value = query.get(name)
        if isinstance(value, (list, dict)):
            del query["cursor"]
            return
        if value is not None:
            carried[name] = str(value).lower() if isinstance(value, bool) else str(value)
    cursor = _cursor(f"{path}?{urllib.parse.urlencode(carried)}", role)
    if cursor is None:
        del query["cursor"]
    else:
        query["cursor"] = cursor


def _amount(value):
    """A price bound as a number (the coverage phase writes query values as text), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value) if value != "" else None
    except (TypeError, ValueError):
        return None


def _product_query(case, list_path, role):
    query = case.query or {}
    low, high = _amount(query.get("min_price")), _amount(query.get("max_price"))
    if low is not None and high is not None and low > high:
        query["min_price"], query["max_price"] = query["max_price"], query["min_price"]
    _steer_cursor(
        case, list_path, role, ("sort", "q", "category", "min_price", "max_price", "seller")
    )


def _day(text):
    return datetime.date.fromisoformat(text)


def _sales_window(case):
    """`from` no later than `to`, at most 3660 days apart; `to` defaults to today."""
    query = case.query or {}
    today = datetime.datetime.now(datetime.timezone.utc).date()
    start = query.get("from")
    end = query.get("to")
    if start is None:
        return
    first = _day(start)
    last = _day(end) if end is not None else today
    if first > last:
        first, last = last, first
    if (last - first).days >= 3660:
        last = first + datetime.timedelta(days=(last - first).days % 3660)
    query["from"] = first.isoformat()
    if end is not None or last != today:
        query["to"] = last.isoformat()


# Deleting or disabling is aimed at what the test made for it, also in stateful runs.
DESTRUCTIVE = ("deleteProduct", "deleteUser", "updateUser")
DESTRUCTIVE_TARGETS = {"deleteProduct": "doomed_product", "deleteUser": "user_to_delete",
                       "updateUser": "user_to_change"}


def _steer_path(case, target):
    for name in case.path_parameters or {}:
        case.path_parameters[name] = target


def _steer_lines(case):
    """An order's lines name the products the test put on sale, one currency, each once."""
    if not isinstance(case.body, dict):
        return
    lines = case.body.get("lines")
    if isinstance(lines, list):
        for line, product in zip(lines, FIXTURE["order_products"]):
            if isinstance(line, dict):
                line["product_id"] = product


def _steer(case):
    operation = _operation_id(case)
    path_ok = _positive(case, ParameterLocation.PATH)
    query_ok = _positive(case, ParameterLocation.QUERY)
    body_ok = _positive(case, ParameterLocation.BODY)
    header_ok = _positive(case, ParameterLocation.HEADER)

    # Paths: the resources the test made, instead of ids that name nothing.
    targets = {
        "getProduct": FIXTURE["seller_product"],
        "updateProduct": FIXTURE["seller_product"],
        "setProductStock": FIXTURE["seller_product"],
        "deleteProduct": FIXTURE["doomed_product"],
        "setCartItem": FIXTURE["cart_product"],
        "removeCartItem": FIXTURE["cart_product"],
        "getOrder": FIXTURE["order"],
        "getOrderPayment": FIXTURE["order"],
        "cancelOrder": FIXTURE["order"],
        "advanceOrderStatus": FIXTURE["order"],
        "updateUser": FIXTURE["user_to_change"],
        "deleteUser": FIXTURE["user_to_delete"],
    }
    # In stateful runs the ids come from earlier answers: they exist already. Deleting or
    # disabling is still aimed at what the test made for it, never at the users and products
    # the rest of the run relies on.
    stateful = case.meta is not None and case.meta.phase.name == "stateful"
    if path_ok and (operation in DESTRUCTIVE or not stateful) and operation in targets:
        _steer_path(case, targets[operation])

    # Queries: cursors this server issued, bounds in order, windows that make sense.
    if query_ok:
        if operation == "searchProducts":
            _product_query(case, "/products", "buyer")
        elif operation == "listMyProducts":
            _product_query(case, "/sellers/me/products", "seller")
        elif operation == "listUsers":
            _steer_cursor(case, "/admin/users", "admin", ("role",))
        elif operation == "listOrders":
            _steer_cursor(case, "/orders", "admin", ("status", "buyer_id"))
        elif operation == "listNotifications":
            _steer_cursor(case, "/notifications", "buyer")
        elif operation in ("getSalesReport", "getMySales"):
            _sales_window(case)

    if body_ok and isinstance(case.body, (dict, list)):
        case.body = _without_control(case.body)

    # Bodies: an order's lines name products on sale, each once.
    if body_ok and operation == "placeOrder":
        _steer_lines(case)

    # Headers: a key is used for one request only; reusing one for another is a 422 of its own.
    if header_ok and case.headers and "Idempotency-Key" in case.headers:
        key = case.headers["Idempotency-Key"]
        if isinstance(key, str):
            case.headers["Idempotency-Key"] = f"{key[:170]}.{_RUN}.{next(_keys)}"
    return case


@schemathesis.hook
def map_case(context, case):
    return _steer(case)


@schemathesis.hook
def before_call(context, case, **kwargs):
    # Stateful runs fill ids from earlier answers after map_case: a product created in another
    # currency would make a valid order unpriceable, so its lines are steered once more here.
    operation = _operation_id(case)
    if operation == "placeOrder" and _positive(case, ParameterLocation.BODY):
        _steer_lines(case)
    # The same for a path a link filled with what an earlier call just created (a product
    # still on its way through the catalog): destructive calls keep to their own targets.
    if operation in DESTRUCTIVE and _positive(case, ParameterLocation.PATH):
        _steer_path(case, FIXTURE[DESTRUCTIVE_TARGETS[operation]])


@schemathesis.hook
def before_add_examples(context, examples):
    # The document's own examples (the Prefer header's, a dashboard file) are sent as well.
    for case in examples:
        _steer(case)
