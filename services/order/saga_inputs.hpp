#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "saga.hpp"

namespace bazaar::order {

/// The saga input a reply of another service stands for: StockReserved, PaymentCharged, ...
/// (nullopt for any other type). The order service and what-if replays read replies alike.
std::optional<Input> reply_input(std::string_view type);
/// Every reply type the saga takes.
const std::vector<std::string_view>& reply_types();

}  // namespace bazaar::order
