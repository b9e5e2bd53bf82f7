#include "orders/keyed_transaction.hpp"

#include "orders/idempotency.hpp"

namespace bazaar::edge {

HttpResponse run_keyed(
    ApiContext& api, const RequestContext& ctx, const boost::json::object& body,
    const std::function<HttpResponse(soci::session&, events::OutboxWriter&)>& work,
    bool& replayed) {
  const KeyHeader header = idempotency_key(ctx.request);
  if (header.error) return *header.error;
  std::optional<KeyedRequest> keyed;
  if (header.key) {
    keyed = KeyedRequest{ctx.principal->user_id, *header.key, ctx.request.method, ctx.request.path,
                         request_hash(ctx.request.method, ctx.request.path, body)};
  }
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

}  // namespace bazaar::edge
