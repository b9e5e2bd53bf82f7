#include "orders/idempotency.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

using namespace bazaar::edge;

namespace {

HttpRequest with_key(std::string key) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/orders";
  r.headers["idempotency-key"] = std::move(key);
  return r;
}

}  // namespace

TEST_CASE("idempotency key header is optional and bounded") {
  HttpRequest none;
  CHECK_FALSE(idempotency_key(none).key);
  CHECK_FALSE(idempotency_key(none).error);

  CHECK(idempotency_key(with_key("order-1")).key == "order-1");
  CHECK(idempotency_key(with_key(std::string(200, 'k'))).key);

  const auto long_key = idempotency_key(with_key(std::string(201, 'k')));
  CHECK_FALSE(long_key.key);
  REQUIRE(long_key.error);
  CHECK(long_key.error->status == 400);
  CHECK(idempotency_key(with_key("")).error);
  CHECK(idempotency_key(with_key("a key")).error);
}

TEST_CASE("request hash ignores whitespace but not content method or path") {
  const auto a = boost::json::parse(R"({"payment_token":"tok_ok","lines":[]})").as_object();
  const auto b =
      boost::json::parse(R"({ "payment_token" : "tok_ok" , "lines" : [ ] })").as_object();
  const auto c = boost::json::parse(R"({"payment_token":"tok_decline","lines":[]})").as_object();
  const std::string h = request_hash("POST", "/orders", a);
  CHECK(h.size() == 64);
  CHECK(h == request_hash("POST", "/orders", b));
  CHECK(h != request_hash("POST", "/orders", c));
  CHECK(h != request_hash("POST", "/cart/checkout", a));
  CHECK(h != request_hash("PUT", "/orders", a));
}

TEST_CASE("a replayed claim answers the stored status and body") {
  KeyClaim replay{KeyClaim::Kind::kReplay, 202, R"({"id":"x"})"};
  const HttpResponse r = claim_response(replay);
  CHECK(r.status == 202);
  CHECK(r.body == R"({"id":"x"})");
  CHECK(r.content_type == "application/json");

  KeyClaim failed{KeyClaim::Kind::kReplay, 422, R"({"status":422})"};
  CHECK(claim_response(failed).content_type == "application/problem+json");

  KeyClaim other{KeyClaim::Kind::kMismatch, 202, "{}"};
  const HttpResponse m = claim_response(other);
  CHECK(m.status == 422);
  CHECK(m.body.find("Idempotency-Key") != std::string::npos);
}
