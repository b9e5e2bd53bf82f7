#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "http/http_types.hpp"

namespace soci {
class session;
}

namespace bazaar::edge {

/// The longest Idempotency-Key accepted.
inline constexpr std::size_t kMaxIdempotencyKeyChars = 200;

/// The Idempotency-Key header of a request: no key, a key, or the 400 problem to answer.
struct KeyHeader {
  std::optional<std::string> key;
  std::optional<HttpResponse> error;
};
KeyHeader idempotency_key(const HttpRequest& request);

/// The fingerprint of a request for its key: method, path and the body's JSON as parsed (so
/// whitespace does not count), as a SHA-256 hex digest.
std::string request_hash(std::string_view method, std::string_view path,
                         const boost::json::object& body);

/// A keyed request.
struct KeyedRequest {
  std::string user_id;
  std::string key;
  std::string method;
  std::string path;
  std::string hash;
};

/// What a key held when the request claimed it.
struct KeyClaim {
  enum class Kind {
    kFirst,     ///< the key is new: do the work, then record_answer in the same transaction
    kReplay,    ///< the same request came before: answer `status` and `body` again
    kMismatch,  ///< the key was used for another request: 422
  };
  Kind kind = Kind::kFirst;
  int status = 0;
  std::string body;
};

/// Claims `request.key` in the caller's transaction. A concurrent first use of the same key
/// holds the row until it commits, so a repeat waits and then sees its answer instead of
/// doing the work twice.
KeyClaim claim_key(soci::session& sql, const KeyedRequest& request);

/// Stores the answer to a request claimed with kFirst, in the same transaction as its effect.
void record_answer(soci::session& sql, const KeyedRequest& request, int status,
                   const std::string& body);

/// The response to a claim that is not kFirst: the stored answer or the 422 for a reused key.
HttpResponse claim_response(const KeyClaim& claim);

/// Deletes keys older than `retention`; a periodic task of the edge.
void purge_idempotency_keys(soci::session& sql, std::chrono::hours retention);

}  // namespace bazaar::edge
