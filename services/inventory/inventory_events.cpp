#include "inventory_events.hpp"

#include <boost/json/array.hpp>

#include "events/envelope.hpp"
#include "events/outbox.hpp"

namespace bazaar::inventory {

void Emitter::emit(const char* type, const std::string& subject, boost::json::object payload,
                   const std::string& correlation) const {
  events::Envelope e = factory.make(type, subject, std::move(payload), cause);
  if (cause == nullptr && !correlation.empty()) e.correlation_id = correlation;
  outbox.add(kEventsTopic, e);
}

boost::json::object stock_level_changed(const std::string& product_id, const StockLevel& level) {
  return {{"product_id", product_id},
          {"on_hand", level.on_hand},
          {"available", level.available},
          {"reserved", level.reserved},
          {"sold", level.sold}};
}

boost::json::object stock_released(const std::string& order_id, const std::string& reason,
                                   bool released) {
  return {{"order_id", order_id}, {"reason", reason}, {"released", released}};
}

boost::json::object stock_reserved(const std::string& order_id, const std::vector<Line>& lines,
                                   const std::string& expires_at) {
  boost::json::array items;
  for (const auto& line : lines) {
    items.push_back(
        boost::json::object{{"product_id", line.product_id}, {"quantity", line.quantity}});
  }
  return {{"order_id", order_id}, {"lines", std::move(items)}, {"expires_at", expires_at}};
}

boost::json::object stock_rejected(const std::string& order_id, const ReservationDecision& d) {
  boost::json::array shortages;
  for (const auto& s : d.shortages) {
    shortages.push_back(boost::json::object{
        {"product_id", s.product_id}, {"requested", s.requested}, {"available", s.available}});
  }
  return {
      {"order_id", order_id}, {"reason", to_string(d.reason)}, {"shortages", std::move(shortages)}};
}

boost::json::object order_only(const std::string& order_id) {
  return {{"order_id", order_id}};
}

boost::json::object commit_failed(const std::string& order_id, std::string_view reason) {
  return {{"order_id", order_id}, {"reason", reason}};
}

}  // namespace bazaar::inventory
