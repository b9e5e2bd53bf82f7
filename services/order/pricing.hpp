#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bazaar::order {

/// A product as the order service's catalog projection knows it.
struct KnownProduct {
  std::int64_t price = 0;  ///< minor units
  std::string currency;
  std::string seller_id;
  bool deleted = false;
};

/// A line as the buyer asked for it.
struct RequestedLine {
  std::string product_id;
  std::int64_t quantity = 0;
};

/// A line with the price captured at placement.
struct PricedLine {
  std::string product_id;
  std::int64_t quantity = 0;
  std::int64_t unit_price = 0;
  std::string seller_id;
};

/// The captured prices of an order, or why it cannot be placed.
struct Pricing {
  std::vector<PricedLine> lines;
  std::int64_t total = 0;
  std::string currency;
  std::string rejection;  ///< empty when priced: unknown_product, mixed_currency, invalid_quantity,
                          ///< total_too_large
};

/// The largest total of an order, in minor units: 10^15 (ten trillion in major units). Up to it
/// every amount prints exactly as a JSON number in major units (fifteen digits fit a double),
/// and sums of many orders stay far inside 64 bits.
inline constexpr std::int64_t kMaxTotal = 1'000'000'000'000'000;

/// Prices an order from the projection, never from the command: every product must be known
/// and not deleted, all in one currency, each quantity positive, and the total at most
/// kMaxTotal.
Pricing price_order(const std::vector<RequestedLine>& lines,
                    const std::map<std::string, KnownProduct>& catalog);

}  // namespace bazaar::order
