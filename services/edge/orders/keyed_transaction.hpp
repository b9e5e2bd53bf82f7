#pragma once

#include <boost/json/object.hpp>
#include <functional>

#include "api_context.hpp"
#include "http/router.hpp"

namespace soci {
class session;
}
namespace bazaar::events {
class OutboxWriter;
}

namespace bazaar::edge {

/// Runs `work` in one transaction under the request's Idempotency-Key, if it has one: the
/// first answer is stored with the effect, a repeat gets it back without doing anything
/// (`replayed`), and a key reused for another request is 422. `body` is the request's parsed
/// JSON, fingerprinted with its method and path.
HttpResponse run_keyed(
    ApiContext& api, const RequestContext& ctx, const boost::json::object& body,
    const std::function<HttpResponse(soci::session&, events::OutboxWriter&)>& work, bool& replayed);

/// Makes `answer` the stored answer of the request's Idempotency-Key, if it has one: a
/// placement that waited for its outcome is replayed with that outcome. A failure to store it
/// is logged; the first answer stays.
void replace_keyed_answer(ApiContext& api, const RequestContext& ctx,
                          const boost::json::object& body, const HttpResponse& answer);

}  // namespace bazaar::edge
