#include "orders/keyed_transaction.hpp"

#include <spdlog/spdlog.h>

#include "events/db.hpp"
#include "orders/idempotency.hpp"

namespace bazaar::edge {

namespace {

// The request as its key stores it: who, which key, and the fingerprint of what was asked.
KeyedRequest keyed_request(const RequestContext& ctx, const std::string& key,
                           const boost::json::object& body) {
  return KeyedRequest{ctx.principal->user_id, key, ctx.request.method, ctx.request.path,
                      request_hash(ctx.request.method, ctx.request.path, body)};
}

}  // namespace

HttpResponse run_keyed(
    ApiContext& api, const RequestContext& ctx, const boost::json::object& body,
    const std::function<HttpResponse(soci::session&, events::OutboxWriter&)>& work,
    bool& replayed) {
  const KeyHeader header = idempotency_key(ctx.request);
  if (header.error) return *header.error;
  std::optional<KeyedRequest> keyed;
  if (header.key) keyed = keyed_request(ctx, *header.key, body);
  HttpResponse answer;
  api.db.transact([&](soci::session& sql, events::OutboxWriter& out) {
    replayed = false;
    if (keyed) {
      const KeyClaim claim = claim_key(sql, *keyed);
      if (claim.kind != KeyClaim::Kind::kFirst) {
        answer = claim_response(claim);
        replayed = claim.kind == KeyClaim::Kind::kReplay;
        return;
      }
    }
    answer = work(sql, out);
    if (keyed) record_answer(sql, *keyed, answer.status, answer.body);
  });
  return answer;
}

void replace_keyed_answer(ApiContext& api, const RequestContext& ctx,
                          const boost::json::object& body, const HttpResponse& answer) {
  const KeyHeader header = idempotency_key(ctx.request);
  if (!header.key) return;
  const KeyedRequest keyed = keyed_request(ctx, *header.key, body);
  try {
    api.db.transact([&](soci::session& sql, events::OutboxWriter&) {
      record_answer(sql, keyed, answer.status, answer.body);
    });
  } catch (const std::exception& e) {
    // The caller has its answer; a replay then gives the one stored first, still true.
    spdlog::warn("a later answer could not be kept for its Idempotency-Key: {}",
                 events::error_summary(e));
  }
}

}  // namespace bazaar::edge
