#include "pricing.hpp"

namespace bazaar::order {

Pricing price_order(const std::vector<RequestedLine>& lines,
                    const std::map<std::string, KnownProduct>& catalog) {
  Pricing out;
  if (lines.empty()) {
    out.rejection = "invalid_quantity";
    return out;
  }
  for (const auto& line : lines) {
    const auto it = catalog.find(line.product_id);
    if (it == catalog.end() || it->second.deleted) {
      out.rejection = "unknown_product";
      return out;
    }
    if (line.quantity <= 0) {
      out.rejection = "invalid_quantity";
      return out;
    }
    const KnownProduct& p = it->second;
    if (out.currency.empty()) out.currency = p.currency;
    if (p.currency != out.currency) {
      out.rejection = "mixed_currency";
      return out;
    }
    if (p.price > 0 && line.quantity > (kMaxTotal - out.total) / p.price) {
      out.rejection = "total_too_large";
      return out;
    }
    out.total += p.price * line.quantity;
    out.lines.push_back({line.product_id, line.quantity, p.price, p.seller_id});
  }
  return out;
}

}  // namespace bazaar::order
