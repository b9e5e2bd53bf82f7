"""The seed workflow through a client generated from schemas/openapi.yaml by openapi-python-client.

Nothing here speaks HTTP itself: every call is an endpoint function the generator wrote (named
after the document's operationIds), every body and answer one of its models. The generated package
is `bazaar_client` (the test's generator config names it) and must be importable:

    PYTHONPATH=<generated> python generated_client_seed.py --base-url http://127.0.0.1:8080

Prints one line per step and exits 0 once the buyer's order is CONFIRMED and in their history;
exits 1 naming the step that failed.
"""

import argparse
import sys
import time
import uuid
from http import HTTPStatus

from bazaar_client import AuthenticatedClient, Client
from bazaar_client.api.auth import log_in, register_user
from bazaar_client.api.orders import get_order, list_orders, place_order
from bazaar_client.api.products import create_product
from bazaar_client.models import (
    Login,
    NewOrder,
    NewOrderLinesItem,
    NewProduct,
    OrderStatus,
    Register,
    RegisterRole,
)

PASSWORD = "correct horse 1"
SETTLED = (OrderStatus.CONFIRMED, OrderStatus.REJECTED, OrderStatus.CANCELLED)


class StepFailed(Exception):
    pass


def expect(step, response, *statuses):
    """The parsed answer of `response` when its status is one of `statuses`."""
    if response.status_code not in statuses or response.parsed is None:
        detail = getattr(response.parsed, "detail", None) or response.content[:300]
        raise StepFailed(f"{step} answered {int(response.status_code)}: {detail}")
    return response.parsed


def seed(base_url, deadline_s):
    anonymous = Client(base_url=base_url, timeout=30.0)
    run = uuid.uuid4().hex[:12]
    clients = {}
    for role in (RegisterRole.SELLER, RegisterRole.BUYER):
        email = f"{role}-{run}@bazaar.test"
        body = Register(email=email, password=PASSWORD, name=f"Generated {role}", role=role)
        user = expect(
            f"register {role}",
            register_user.sync_detailed(client=anonymous, body=body),
            HTTPStatus.CREATED,
        )
        print(f"registered {role} {user.id} role={user.role}")
        tokens = expect(
            f"sign in {role}",
            log_in.sync_detailed(client=anonymous, body=Login(email=email, password=PASSWORD)),
            HTTPStatus.OK,
        )
        print(f"signed in {role} token_type={tokens.token_type} expires_in={tokens.expires_in}")
        clients[role] = AuthenticatedClient(
            base_url=base_url, token=tokens.access_token, timeout=30.0
        )
    seller, buyer = clients[RegisterRole.SELLER], clients[RegisterRole.BUYER]

    product = expect(
        "list a product",
        create_product.sync_detailed(
            client=seller,
            body=NewProduct(
                name="Generated teapot",
                description="Listed by a generated client",
                price=12.5,
                currency="EUR",
                category="kitchen",
                stock=5,
            ),
        ),
        HTTPStatus.CREATED,
        HTTPStatus.ACCEPTED,
    )
    print(f"listed product {product.id} price={product.price} {product.currency}")

    key = f"seed-{run}"
    order_body = NewOrder(
        lines=[NewOrderLinesItem(product_id=product.id, quantity=2)], payment_token="tok_ok"
    )

    def place():
        return expect(
            "place the order",
            place_order.sync_detailed(client=buyer, body=order_body, idempotency_key=key),
            HTTPStatus.OK,
            HTTPStatus.ACCEPTED,
        )

    placed = place()
    again = place()
    if again.id != placed.id:
        raise StepFailed(f"one Idempotency-Key placed two orders: {placed.id} and {again.id}")
    print(f"placed order {placed.id} status={placed.status} (repeated key: same order)")

    until = time.monotonic() + deadline_s
    order = placed
    while order.status not in SETTLED:
        if time.monotonic() > until:
            raise StepFailed(f"order {placed.id} still {order.status} after {deadline_s} s")
        order = expect(
            "read the order",
            get_order.sync_detailed(placed.id, client=buyer, prefer="wait=5"),
            HTTPStatus.OK,
        )
    if order.status != OrderStatus.CONFIRMED:
        raise StepFailed(f"order {placed.id} ended {order.status} ({order.reason})")
    print(f"order {placed.id} CONFIRMED")

    history = expect("read the history", list_orders.sync_detailed(client=buyer), HTTPStatus.OK)
    mine = [o for o in history.items if o.id == placed.id]
    if len(mine) != 1 or mine[0].status != OrderStatus.CONFIRMED:
        raise StepFailed(f"the buyer's history does not show order {placed.id} CONFIRMED")
    print(f"history holds order {placed.id} CONFIRMED total={mine[0].total} {mine[0].currency}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds to wait for CONFIRMED")
    args = parser.parse_args()
    try:
        seed(args.base_url, args.deadline)
    except StepFailed as failed:
        print(f"failed: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
