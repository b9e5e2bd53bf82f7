#include "http/router.hpp"

#include <doctest/doctest.h>

using namespace bazaar::edge;

namespace {

HttpRequest request(std::string method, std::string path, std::string token = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = path;
  r.target = path;
  if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
  return r;
}

Router make_router() {
  Router router([](const HttpRequest& r) -> std::optional<Principal> {
    const std::string auth = r.header("authorization");
    if (auth == "Bearer admin") return Principal{"u-admin", "admin"};
    if (auth == "Bearer buyer") return Principal{"u-buyer", "buyer"};
    if (auth == "Bearer seller") return Principal{"u-seller", "seller"};
    return std::nullopt;
  });
  auto echo = [](const RequestContext& c) {
    HttpResponse r;
    r.body = c.params.contains("id") ? c.params.at("id") : "none";
    return r;
  };
  router.add("GET", "/products", Access::kAnyone, echo);
  router.add("GET", "/orders/{id}", Access::kBuyerOrAdmin, echo);
  router.add("POST", "/orders/{id}/cancel", Access::kBuyerOrAdmin, echo);
  router.add("GET", "/admin/users", Access::kAdmin, echo);
  return router;
}

}  // namespace

TEST_CASE("routes match their pattern and hand over path parameters") {
  const Router router = make_router();
  const auto r = router.handle(request("GET", "/orders/42", "buyer"));
  CHECK(r.status == 200);
  CHECK(r.body == "42");
  CHECK(router.handle(request("POST", "/orders/42/cancel", "admin")).status == 200);
  CHECK(router.handle(request("GET", "/products")).status == 200);
}

TEST_CASE("access is enforced before a route runs") {
  const Router router = make_router();
  const auto none = router.handle(request("GET", "/orders/42"));
  CHECK(none.status == 401);
  CHECK(none.content_type == "application/problem+json");
  CHECK(router.handle(request("GET", "/orders/42", "forged")).status == 401);
  CHECK(router.handle(request("GET", "/orders/42", "seller")).status == 403);
  CHECK(router.handle(request("GET", "/admin/users", "buyer")).status == 403);
  CHECK(router.handle(request("GET", "/admin/users", "admin")).status == 200);
}

TEST_CASE("unknown paths and methods are problems") {
  const Router router = make_router();
  CHECK(router.handle(request("GET", "/nope")).status == 404);
  const auto wrong = router.handle(request("DELETE", "/products"));
  CHECK(wrong.status == 405);
  REQUIRE_FALSE(wrong.headers.empty());
  CHECK(wrong.headers.front().second == "GET, HEAD");
}

TEST_CASE("HEAD is answered by the GET route and named as itself where none serves it") {
  const Router router = make_router();
  const auto head = router.handle(request("HEAD", "/orders/42", "buyer"));
  CHECK(head.status == 200);
  CHECK(head.body == "42");
  const auto post_only = router.handle(request("HEAD", "/orders/42/cancel", "admin"));
  CHECK(post_only.status == 405);
  CHECK(post_only.body.find("HEAD is not served here") != std::string::npos);
  REQUIRE_FALSE(post_only.headers.empty());
  CHECK(post_only.headers.front().second == "POST");
}

TEST_CASE("the role table") {
  CHECK(Router::allows(Access::kSellerOrAdmin, "seller"));
  CHECK(Router::allows(Access::kSellerOrAdmin, "admin"));
  CHECK_FALSE(Router::allows(Access::kSellerOrAdmin, "buyer"));
  CHECK_FALSE(Router::allows(Access::kBuyer, "admin"));
  CHECK(Router::allows(Access::kSignedIn, "buyer"));
}
