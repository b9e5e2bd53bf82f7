#include "reservation.hpp"

#include <algorithm>

namespace bazaar::inventory {

std::vector<Line> merge_lines(std::vector<Line> lines) {
  std::sort(lines.begin(), lines.end(),
            [](const Line& a, const Line& b) { return a.product_id < b.product_id; });
  std::vector<Line> out;
  for (auto& line : lines) {
    if (!out.empty() && out.back().product_id == line.product_id) {
      out.back().quantity += line.quantity;
    } else {
      out.push_back(std::move(line));
    }
  }
  return out;
}

const char* to_string(RejectReason r) {
  switch (r) {
    case RejectReason::out_of_stock:
      return "out_of_stock";
    case RejectReason::unknown_product:
      return "unknown_product";
  }
  return "unknown";
}

ReservationDecision decide_reservation(const std::vector<Line>& merged,
                                       const std::map<std::string, StockLevel>& levels) {
  ReservationDecision d;
  for (const auto& line : merged) {
    const auto it = levels.find(line.product_id);
    if (it == levels.end()) {
      d.reason = RejectReason::unknown_product;
      d.shortages.push_back({line.product_id, line.quantity, 0});
    } else if (it->second.available < line.quantity) {
      d.shortages.push_back({line.product_id, line.quantity, it->second.available});
    }
  }
  return d;
}

}  // namespace bazaar::inventory
