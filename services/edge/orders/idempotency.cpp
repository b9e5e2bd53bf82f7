#include "orders/idempotency.hpp"

#include <soci/soci.h>
#include <sodium.h>

#include <array>
#include <boost/json/serialize.hpp>

#include "http/problem.hpp"

namespace bazaar::edge {
namespace {

// A placeholder row claims the key; its status and body are filled in before the commit.
// The primary key makes a concurrent INSERT of the same key wait for the first transaction.
constexpr const char* kClaim = R"sql(
INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, status, body, created_at)
VALUES (CAST(:user AS uuid), :key, :method, :path, :hash, 0, '', now())
ON CONFLICT (user_id, key) DO NOTHING)sql";

constexpr const char* kStored = R"sql(
SELECT method, path, request_hash, status, body FROM idempotency_keys
WHERE user_id = CAST(:user AS uuid) AND key = :key)sql";

constexpr const char* kRecord = R"sql(
UPDATE idempotency_keys SET status = :status, body = :body
WHERE user_id = CAST(:user AS uuid) AND key = :key)sql";

constexpr const char* kPurge =
    "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => :h)";

}  // namespace

KeyHeader idempotency_key(const HttpRequest& request) {
  KeyHeader out;
  if (!request.headers.contains("idempotency-key")) return out;
  std::string key = request.header("idempotency-key");
  if (key.empty() || key.size() > kMaxIdempotencyKeyChars) {
    out.error = problem(
        400, "Bad Request",
        "Idempotency-Key must be 1 to " + std::to_string(kMaxIdempotencyKeyChars) + " characters");
    return out;
  }
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    // Visible ASCII only: keys are stored and compared as text.
    if (c < 0x21 || c > 0x7e) {
      out.error = problem(400, "Bad Request", "Idempotency-Key must be visible ASCII");
      return out;
    }
  }
  out.key = std::move(key);
  return out;
}

std::string request_hash(std::string_view method, std::string_view path,
                         const boost::json::object& body) {
  std::string text(method);
  text += ' ';
  text += path;
  text += '\n';
  text += boost::json::serialize(body);
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(text.data()),
                     text.size());
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : digest) {
    hex += kDigits[b >> 4];
    hex += kDigits[b & 0xf];
  }
  return hex;
}

KeyClaim claim_key(soci::session& sql, const KeyedRequest& request) {
  soci::statement claim = (sql.prepare << kClaim, soci::use(request.user_id, "user"),
                           soci::use(request.key, "key"), soci::use(request.method, "method"),
                           soci::use(request.path, "path"), soci::use(request.hash, "hash"));
  claim.execute(true);
  if (claim.get_affected_rows() == 1) return KeyClaim{};

  std::string stored_method;
  std::string stored_path;
  std::string stored_hash;
  KeyClaim out;
  sql << kStored, soci::use(request.user_id, "user"), soci::use(request.key, "key"),
      soci::into(stored_method), soci::into(stored_path), soci::into(stored_hash),
      soci::into(out.status), soci::into(out.body);
  const bool same = sql.got_data() && stored_method == request.method &&
                    stored_path == request.path && stored_hash == request.hash;
  out.kind = same ? KeyClaim::Kind::kReplay : KeyClaim::Kind::kMismatch;
  return out;
}

void record_answer(soci::session& sql, const KeyedRequest& request, int status,
                   const std::string& body) {
  sql << kRecord, soci::use(status, "status"), soci::use(body, "body"),
      soci::use(request.user_id, "user"), soci::use(request.key, "key");
}

HttpResponse claim_response(const KeyClaim& claim) {
  if (claim.kind == KeyClaim::Kind::kMismatch) {
    return problem(422, "Unprocessable Content",
                   "this Idempotency-Key was used for a different request",
                   {{"Idempotency-Key", "was used for a different request"}});
  }
  HttpResponse r;
  r.status = claim.status;
  r.body = claim.body;
  if (claim.status >= 400) r.content_type = "application/problem+json";
  r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

void purge_idempotency_keys(soci::session& sql, std::chrono::hours retention) {
  const int hours = static_cast<int>(retention.count());
  sql << kPurge, soci::use(hours, "h");
}

}  // namespace bazaar::edge
