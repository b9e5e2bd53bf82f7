#include "inventory_events.hpp"

#include "events/outbox.hpp"

namespace bazaar::inventory {

void LevelChanges::moved(const events::EnvelopeFactory& factory, const events::Envelope* cause,
                         const std::string& product_id, const StockLevel& level,
                         const std::string& correlation) {
  factory_ = &factory;
  Pending& p = pending_[product_id];
  p.level = level;
  p.correlation = correlation;
  p.cause.reset();
  if (cause != nullptr) {
    events::Envelope& kept = p.cause.emplace();
    kept.id = cause->id;
    kept.subject = cause->subject;
    kept.correlation_id = cause->correlation_id;
    kept.traceparent = cause->traceparent;
  }
}

std::vector<events::Envelope> LevelChanges::take() {
  std::vector<events::Envelope> out;
  out.reserve(pending_.size());
  for (const auto& [product_id, p] : pending_) {
    events::Envelope e = factory_->make(std::string(inv::StockLevelChangedV1::kType), product_id,
                                        stock_level_changed(product_id, p.level).to_json(),
                                        p.cause ? &*p.cause : nullptr);
    if (!p.correlation.empty()) e.correlation_id = p.correlation;
    out.push_back(std::move(e));
  }
  pending_.clear();
  return out;
}

void LevelChanges::emit(events::OutboxWriter& outbox) {
  for (const auto& e : take()) outbox.add(std::string(contracts::topic::kInventoryEvents), e);
}

inv::StockLevelChangedV1 stock_level_changed(const std::string& product_id,
                                             const StockLevel& level) {
  return {.product_id = product_id,
          .on_hand = level.on_hand,
          .available = level.available,
          .reserved = level.reserved,
          .sold = level.sold};
}

inv::StockReleasedV1 stock_released(const std::string& order_id, const std::string& reason,
                                    bool released) {
  return {.order_id = order_id, .reason = reason, .released = released};
}

inv::StockReservedV1 stock_reserved(const std::string& order_id, const std::vector<Line>& lines,
                                    const std::string& expires_at) {
  inv::StockReservedV1 out{.order_id = order_id, .lines = {}, .expires_at = expires_at};
  for (const auto& line : lines) out.lines.push_back({line.product_id, line.quantity});
  return out;
}

inv::StockRejectedV1 stock_rejected(const std::string& order_id, const ReservationDecision& d) {
  inv::StockRejectedV1 out{
      .order_id = order_id, .reason = std::string(to_string(d.reason)), .shortages = {}};
  for (const auto& s : d.shortages) {
    out.shortages.push_back({s.product_id, s.requested, s.available});
  }
  return out;
}

inv::ReservationCommitFailedV1 commit_failed(const std::string& order_id, std::string_view reason) {
  return {.order_id = order_id, .reason = std::string(reason)};
}

}  // namespace bazaar::inventory
