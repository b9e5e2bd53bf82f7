#include "refunds.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace bazaar::order;
using K = RefundPlan::Kind;

namespace {

struct Row {
  const char* name;
  Status status;
  std::int64_t total;
  std::int64_t requested;
  std::optional<std::int64_t> amount;
  K kind;
  std::int64_t refunds;  ///< the amount the plan returns
};

const std::vector<Row> kTable{
    {"everything of a confirmed order cancels it", Status::kConfirmed, 1000, 0, std::nullopt,
     K::kCancelAndRefund, 1000},
    {"the whole total named cancels it too", Status::kConfirmed, 1000, 0, 1000, K::kCancelAndRefund,
     1000},
    {"part of a confirmed order keeps it", Status::kConfirmed, 1000, 0, 300, K::kPartial, 300},
    {"the rest after a part cancels a confirmed order", Status::kConfirmed, 1000, 300, std::nullopt,
     K::kCancelAndRefund, 700},
    {"a shipped order only gets money back", Status::kShipped, 1000, 0, std::nullopt, K::kPartial,
     1000},
    {"a delivered order only gets money back", Status::kDelivered, 1000, 600, 400, K::kPartial,
     400},
    {"more than is left is refused", Status::kShipped, 1000, 600, 401, K::kRefuse, 0},
    {"nothing left is refused", Status::kDelivered, 1000, 1000, std::nullopt, K::kRefuse, 0},
    {"a zero refund is refused", Status::kConfirmed, 1000, 0, 0, K::kRefuse, 0},
    {"a negative refund is refused", Status::kConfirmed, 1000, 0, -5, K::kRefuse, 0},
    {"an order paying is refused", Status::kAwaitingPayment, 1000, 0, 100, K::kRefuse, 0},
    {"a cancelled order is refused", Status::kCancelled, 1000, 0, std::nullopt, K::kRefuse, 0},
    {"a rejected order is refused", Status::kRejected, 0, 0, std::nullopt, K::kRefuse, 0},
};

}  // namespace

TEST_CASE("admin refunds follow the table") {
  for (const auto& row : kTable) {
    CAPTURE(row.name);
    const RefundPlan plan = plan_refund(row.status, row.total, row.requested, row.amount);
    CHECK(plan.kind == row.kind);
    CHECK(plan.amount == row.refunds);
    CHECK(plan.reason.empty() == (row.kind != K::kRefuse));
  }
}

TEST_CASE("refunds never add up to more than the charge") {
  // Any sequence of requests: the accepted ones never exceed the total, and the last accepted
  // one that reaches it is the only one that leaves nothing.
  for (std::int64_t step = 1; step <= 7; ++step) {
    std::int64_t requested = 0;
    int accepted = 0;
    for (int i = 0; i < 20; ++i) {
      const RefundPlan plan = plan_refund(Status::kShipped, 20, requested, step);
      if (plan.kind == K::kRefuse) continue;
      requested += plan.amount;
      ++accepted;
    }
    CHECK(requested <= 20);
    CHECK(accepted == 20 / step);
    const RefundPlan rest = plan_refund(Status::kShipped, 20, requested, std::nullopt);
    CHECK((rest.kind == K::kRefuse) == (requested == 20));
  }
}
