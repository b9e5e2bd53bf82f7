#include "events/handler.hpp"

#include <optional>

#include "events/outbox.hpp"
#include "events/uuid.hpp"

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

namespace {

// The field's text when it is a UUID in the canonical lower-case form the schemas require.
std::optional<std::string> canonical_uuid(const HandlerContext& ctx, std::string_view field) {
  if (!ctx.event.data.is_object()) return std::nullopt;
  const auto* v = ctx.event.data.get_object().if_contains(field);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  const std::string_view text = v->get_string();
  const auto id = Uuid::parse(text);
  if (!id || id->str() != text) return std::nullopt;
  return std::string(text);
}

}  // namespace

std::string refused_id(const HandlerContext& ctx, std::string_view field) {
  if (auto id = canonical_uuid(ctx, field)) return *std::move(id);
  throw PermanentError("payload field " + std::string(field) +
                       " names no aggregate to refuse the command for");
}

std::string refused_id_or_empty(const HandlerContext& ctx,
                                std::initializer_list<std::string_view> fields) {
  for (const auto field : fields) {
    if (auto id = canonical_uuid(ctx, field)) return *std::move(id);
  }
  return {};
}

}  // namespace bazaar::events
