#include "events/handler.hpp"

#include "events/outbox.hpp"

namespace bazaar::events {

Envelope emit(OutboxWriter& outbox, const EnvelopeFactory& factory, std::string_view topic,
              std::string key, std::string type, boost::json::object payload, const Envelope* cause,
              std::string correlation) {
  Envelope e = factory.make(std::move(type), std::move(key), std::move(payload), cause);
  if (!correlation.empty()) e.correlation_id = std::move(correlation);
  outbox.add(std::string(topic), e);
  return e;
}

void retry_while_recent(const HandlerContext& ctx, std::chrono::milliseconds grace,
                        const std::string& why) {
  const auto sent = parse_rfc3339(ctx.event.time).value_or(ctx.clock.now());
  if (ctx.clock.now() - sent < grace) throw TransientError(why + "; retrying");
}

}  // namespace bazaar::events
