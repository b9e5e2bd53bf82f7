#include "saga_inputs.hpp"

#include <utility>

#include "contracts/contracts.hpp"

namespace bazaar::order {
namespace {

namespace inv = contracts::inventory;
namespace pay = contracts::payment;

const std::vector<std::pair<std::string_view, Input>>& replies() {
  static const std::vector<std::pair<std::string_view, Input>> kReplies{
      {inv::StockReservedV1::kType, Input::kStockReserved},
      {inv::StockRejectedV1::kType, Input::kStockRejected},
      {inv::ReservationCommittedV1::kType, Input::kReservationCommitted},
      {inv::ReservationCommitFailedV1::kType, Input::kReservationCommitFailed},
      {inv::StockReleasedV1::kType, Input::kStockReleased},
      {pay::PaymentChargedV1::kType, Input::kPaymentCharged},
      {pay::PaymentDeclinedV1::kType, Input::kPaymentDeclined},
      {pay::PaymentRefundedV1::kType, Input::kPaymentRefunded},
  };
  return kReplies;
}

}  // namespace

std::optional<Input> reply_input(std::string_view type) {
  for (const auto& [name, input] : replies()) {
    if (name == type) return input;
  }
  return std::nullopt;
}

const std::vector<std::string_view>& reply_types() {
  static const std::vector<std::string_view> kTypes = [] {
    std::vector<std::string_view> out;
    for (const auto& [name, input] : replies()) out.push_back(name);
    return out;
  }();
  return kTypes;
}

}  // namespace bazaar::order
