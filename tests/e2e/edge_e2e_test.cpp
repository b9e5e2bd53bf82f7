// The public API end to end: every service a real process, the edge answering over real HTTP
// and WebSocket, each seed workflow as a client would run it.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <jwt.h>
#include <netinet/in.h>
#include <soci/soci.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "events/startup.hpp"
#include "shop_api.hpp"
#include "system.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::string base64url(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  int val = 0, bits = -6;
  for (char ch : in) {
    val = (val << 8) + static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 0) {
      out.push_back(kAlphabet[(val >> bits) & 0x3f]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(kAlphabet[((val << 8) >> (bits + 8)) & 0x3f]);
  return out;
}

// A token signed with `secret`, with the given claims.
std::string forge(const std::string& secret, const std::string& sub, const std::string& aud,
                  long exp_offset_s) {
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  const long now = static_cast<long>(std::time(nullptr));
  jwt_add_grant(jwt, "sub", sub.c_str());
  jwt_add_grant(jwt, "role", "admin");
  jwt_add_grant(jwt, "iss", "bazaar");
  jwt_add_grant(jwt, "aud", aud.c_str());
  jwt_add_grant_int(jwt, "iat", now);
  jwt_add_grant_int(jwt, "exp", now + exp_offset_s);
  jwt_set_alg(jwt, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
              static_cast<int>(secret.size()));
  char* text = jwt_encode_str(jwt);
  std::string out = text != nullptr ? text : "";
  free(text);
  jwt_free(jwt);
  return out;
}

}  // namespace

TEST_CASE("the seed workflow from registration to order history over HTTP") {
  Api api(true, {{"BAZAAR_ANALYTICS_SNAPSHOT_INTERVAL_MS", "300"}});
  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const std::string product = api.product(seller, 12.5, 5);

  const auto view = api.http.get("/products/" + product);
  REQUIRE(view.status == 200);
  CHECK(view.json().at("price").to_number<double>() == 12.5);
  CHECK(view.json().at("seller_id").as_string() == seller_id);
  const auto search = api.http.get("/products?q=BLUE&limit=50");
  REQUIRE(search.status == 200);
  CHECK(boost::json::serialize(search.json()).find(product) != std::string::npos);

  const auto placed = api.order(buyer, product, 2, "tok_ok");
  const std::string order_id(placed.at("id").as_string());
  CHECK(api.wait_order_status(buyer, order_id) == "CONFIRMED");
  const auto mine = api.http.get("/orders", buyer);
  REQUIRE(mine.status == 200);
  CHECK(boost::json::serialize(mine.json()).find(order_id) != std::string::npos);
  const auto detail = api.http.get("/orders/" + order_id, buyer);
  REQUIRE(detail.status == 200);
  CHECK(detail.json().at("total").to_number<double>() == 25.0);
  CHECK_FALSE(detail.json().at("steps").as_array().empty());
  const auto payment = api.http.get("/orders/" + order_id + "/payment", buyer);
  REQUIRE(payment.status == 200);
  CHECK(payment.json().at("status").as_string() == "CHARGED");

  // The admin's stats follow through analytics within a few seconds.
  const std::string admin = api.admin_token();
  CHECK(tests::wait_until(30s, [&] {
    const auto stats = api.http.get("/admin/stats", admin);
    return stats.status == 200 && stats.json().at("total_sales").to_number<double>() >= 25.0;
  }));
}

TEST_CASE("a next_cursor pages the listing and filters that gave it, and no other") {
  Api api;
  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  std::vector<std::string> products;
  for (int i = 0; i < 3; ++i) products.push_back(api.product(seller, 2 + i, 10));
  const auto cursor_of = [](const HttpResult& r) {
    REQUIRE(r.status == 200);
    return std::string(r.json().at("next_cursor").as_string());
  };

  const std::string mine = cursor_of(api.http.get("/sellers/me/products?limit=1", seller));
  const auto second = api.http.get("/sellers/me/products?limit=2&cursor=" + mine, seller);
  REQUIRE(second.status == 200);
  CHECK(second.json().at("items").as_array().size() == 2);
  // The same listing by another road: every product of this seller.
  CHECK(api.http.get("/products?seller=" + seller_id + "&cursor=" + mine).status == 200);
  CHECK(api.http.get("/products?cursor=" + mine).status == 400);
  CHECK(api.http.get("/sellers/me/products?q=Teapot&cursor=" + mine, seller).status == 400);
  CHECK(api.http.get("/sellers/me/products?sort=price&cursor=" + mine, seller).status == 400);

  for (const auto& p : {products[0], products[1]}) api.order(buyer, p, 1, "tok_ok");
  const std::string orders = cursor_of(api.http.get("/orders?limit=1", buyer));
  CHECK(api.http.get("/orders?limit=1&cursor=" + orders, buyer).status == 200);
  CHECK(api.http.get("/orders?status=CANCELLED&cursor=" + orders, buyer).status == 422);

  const std::string admin = api.admin_token();
  const std::string users = cursor_of(api.http.get("/admin/users?limit=1", admin));
  CHECK(api.http.get("/admin/users?limit=1&cursor=" + users, admin).status == 200);
  CHECK(api.http.get("/admin/users?role=buyer&cursor=" + users, admin).status == 422);
  // The buyer's cursor is not the admin's, whose list holds every buyer's orders.
  CHECK(api.http.get("/orders?cursor=" + orders, admin).status == 422);
}

TEST_CASE("the role matrix holds on every kind of route") {
  Api api;
  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const auto [other_id, other] = api.user("buyer");
  const std::string admin = api.admin_token();
  const std::string product = api.product(seller, 3, 10);
  const std::string order_id(api.order(buyer, product, 1, "tok_ok").at("id").as_string());

  struct Case {
    const char* method;
    std::string path;
    std::string token;
    int expected;
  };
  const json::object new_product{{"name", "X"}, {"price", 1}, {"category", "c"}};
  const std::vector<Case> cases{
      {"GET", "/users/me", "", 401},
      {"GET", "/orders", "", 401},
      {"GET", "/admin/users", buyer, 403},
      {"GET", "/admin/stats", seller, 403},
      {"POST", "/products", buyer, 403},
      {"POST", "/orders", seller, 403},
      {"GET", "/cart", seller, 403},
      {"GET", "/sellers/me/products", buyer, 403},
      {"DELETE", "/products/" + product, seller, 403},
      {"PATCH", "/orders/" + order_id + "/status", buyer, 403},
      {"GET", "/orders/" + order_id, other, 404},
      {"GET", "/orders/" + order_id + "/payment", other, 404},
      {"POST", "/orders/" + order_id + "/cancel", other, 404},
      {"GET", "/orders/" + order_id, buyer, 200},
      {"GET", "/orders/" + order_id, admin, 200},
      {"GET", "/admin/users", admin, 200},
      {"GET", "/sellers/me/products", seller, 200},
      {"GET", "/users/me", other, 200},
  };
  for (const auto& c : cases) {
    CAPTURE(c.method);
    CAPTURE(c.path);
    const json::value body = std::string(c.method) == "POST" && c.path == "/products"
                                 ? json::value(new_product)
                             : std::string(c.method) == "GET" || std::string(c.method) == "DELETE"
                                 ? json::value()
                                 : json::value(json::object{});
    const auto r = api.http.send(c.method, c.path, body, c.token);
    CHECK(r.status == c.expected);
    if (r.status >= 400) CHECK(r.header("content-type") == "application/problem+json");
  }
}

TEST_CASE("a cart becomes an order at checkout") {
  Api api;
  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const std::string tea = api.product(seller, 4.5, 10);
  const std::string pot = api.product(seller, 20, 10);
  CHECK(api.http.send("PUT", "/cart/items/" + tea, json::object{{"quantity", 3}}, buyer).status ==
        200);
  CHECK(api.http.send("PUT", "/cart/items/" + pot, json::object{{"quantity", 1}}, buyer).status ==
        200);
  CHECK(api.http.send("PUT", "/cart/items/" + pot, json::object{{"quantity", 0}}, buyer).status ==
        422);
  auto cart = api.http.get("/cart", buyer);
  REQUIRE(cart.status == 200);
  CHECK(cart.json().at("total").to_number<double>() == 33.5);
  CHECK(api.http.send("DELETE", "/cart/items/" + pot, json::value(), buyer).status == 200);
  cart = api.http.get("/cart", buyer);
  CHECK(cart.json().at("items").as_array().size() == 1);
  const auto checkout =
      api.http.post("/cart/checkout", json::object{{"payment_token", "tok_ok"}}, buyer);
  REQUIRE_MESSAGE((checkout.status == 202 || checkout.status == 200), checkout.body);
  const std::string order_id(checkout.json().at("id").as_string());
  CHECK(api.wait_order_status(buyer, order_id) == "CONFIRMED");
  CHECK(api.http.get("/cart", buyer).json().at("items").as_array().empty());
  CHECK(api.http.post("/cart/checkout", json::object{{"payment_token", "tok_ok"}}, buyer).status ==
        409);
}

TEST_CASE("a cart holds one currency and a total one order may have") {
  Api api;
  const auto seller = api.user("seller").second;
  const auto buyer = api.user("buyer").second;
  const std::string tea = api.product(seller, 12.5, 10);
  const std::string dollar = api.product(seller, 1, 10, "Mug", "USD");
  const std::string dear = api.product(seller, 9999999999999.99, 1000, "Palace");
  REQUIRE(api.http.send("PUT", "/cart/items/" + tea, json::object{{"quantity", 2}}, buyer).status ==
          200);
  const auto mixed =
      api.http.send("PUT", "/cart/items/" + dollar, json::object{{"quantity", 1}}, buyer);
  CHECK(mixed.status == 409);
  CHECK(mixed.body.find("one currency") != std::string::npos);
  const auto too_much =
      api.http.send("PUT", "/cart/items/" + dear, json::object{{"quantity", 901}}, buyer);
  CHECK(too_much.status == 409);
  const auto cart = api.http.get("/cart", buyer).json();
  CHECK(cart.at("items").as_array().size() == 1);
  CHECK(cart.at("total").to_number<double>() == 25);
  CHECK(cart.at("currency") == "EUR");
  // An order past the limit is refused up front, not accepted to be rejected later.
  const auto order = api.http.post(
      "/orders",
      json::object{{"lines", json::array{json::object{{"product_id", dear}, {"quantity", 901}}}},
                   {"payment_token", "tok_ok"}},
      buyer);
  CHECK(order.status == 422);
  CHECK(order.body.find("total_too_large") != std::string::npos);
}

TEST_CASE("a notification reaches the buyer over the WebSocket") {
  Api api;
  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const std::string product = api.product(seller, 9.99, 3);
  WebSocketClient refused(api.port, "/ws", "not-a-token");
  CHECK(refused.handshake_status() == 401);
  // Handshakes that cannot become a WebSocket are refused as problem JSON.
  const auto handshake = [&](const std::string& more) {
    return api.http.raw(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nAuthorization: Bearer " +
            buyer + "\r\n" + more + "\r\n",
        5s);
  };
  const std::string too_old =
      handshake("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n");
  CHECK(too_old.starts_with("HTTP/1.1 426 "));
  CHECK(too_old.find("\r\nUpgrade: websocket\r\n") != std::string::npos);
  CHECK(too_old.find("\r\nSec-WebSocket-Version: 13\r\n") != std::string::npos);
  CHECK(too_old.find("\r\nContent-Type: application/problem+json\r\n") != std::string::npos);
  const std::string no_key = handshake("Sec-WebSocket-Version: 13\r\n");
  CHECK(no_key.starts_with("HTTP/1.1 400 "));
  const std::string bad_key =
      handshake("Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!!!\r\nSec-WebSocket-Version: 13\r\n");
  CHECK(bad_key.starts_with("HTTP/1.1 400 "));
  CHECK(no_key.find("\r\nContent-Type: application/problem+json\r\n") != std::string::npos);
  WebSocketClient ws(api.port, "/ws", buyer);
  REQUIRE(ws.open());
  const std::string order_id(api.order(buyer, product, 1, "tok_ok", 0).at("id").as_string());
  bool confirmed = false;
  bool stock = false;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while ((!confirmed || !stock) && std::chrono::steady_clock::now() < deadline) {
    const std::string frame = ws.next(5s);
    confirmed = confirmed || (frame.find("order_confirmed") != std::string::npos &&
                              frame.find(order_id) != std::string::npos);
    stock = stock || (frame.find("\"stock\"") != std::string::npos &&
                      frame.find(product) != std::string::npos);
  }
  CHECK(confirmed);
  CHECK(stock);
  const auto list = api.http.get("/notifications", buyer);
  REQUIRE(list.status == 200);
  CHECK(boost::json::serialize(list.json()).find("order_confirmed") != std::string::npos);
}

TEST_CASE("a one-time code sent through the notification webhook signs the user in") {
  Api api;
  const std::string email = api.unique_email("otp");
  const auto registered = api.http.post(
      "/auth/register",
      json::object{{"email", email}, {"password", "correct horse 1"}, {"name", "Otto"}});
  REQUIRE(registered.status == 201);
  const std::string otto(registered.json().at("id").as_string());
  CHECK(api.http.post("/auth/otp/request", json::object{{"email", "nobody-" + email}}).status ==
        202);
  CHECK(api.http.post("/auth/otp/request", json::object{{"email", email}}).status == 202);
  std::string code;
  REQUIRE(tests::wait_until(30s, [&] {
    for (const auto& body : api.webhook.bodies()) {
      boost::system::error_code ec;
      const auto v = boost::json::parse(body, ec);
      if (ec || !v.is_object()) continue;
      const auto& o = v.as_object();
      // Only Otto's: deliveries left over from earlier runs may reach this receiver too.
      if (o.contains("kind") && o.at("kind") == "otp" && o.contains("code") &&
          o.contains("recipient_id") && o.at("recipient_id") == boost::json::value(otto)) {
        code = std::string(o.at("code").as_string());
      }
    }
    return !code.empty();
  }));
  CHECK(api.http
            .post("/auth/otp/verify",
                  json::object{{"email", email}, {"code", "000000" == code ? "111111" : "000000"}})
            .status == 401);
  const auto ok = api.http.post("/auth/otp/verify", json::object{{"email", email}, {"code", code}});
  REQUIRE_MESSAGE(ok.status == 200, ok.body);
  const std::string token(ok.json().at("access_token").as_string());
  CHECK(api.http.get("/users/me", token).json().at("email").as_string() == email);
  CHECK(api.http.post("/auth/otp/verify", json::object{{"email", email}, {"code", code}}).status ==
        401);

  // Guessing: five wrong codes lock the code, and asking again at once neither issues a new
  // one nor buys more guesses.
  const std::string victim = api.unique_email("victim");
  REQUIRE(api.http
              .post("/auth/register",
                    json::object{{"email", victim}, {"password", "correct horse 1"}, {"name", "V"}})
              .status == 201);
  CHECK(api.http.post("/auth/otp/request", json::object{{"email", victim}}).status == 202);
  std::string victim_code;
  REQUIRE(tests::wait_until(30s, [&] {
    long long n = 0;
    api.system.db("edge")
        << "SELECT count(*) FROM otp_codes o JOIN users u USING (user_id) WHERE u.email = :e",
        soci::use(victim), soci::into(n);
    return n == 1;
  }));
  for (int i = 0; i < 5; ++i) {
    CHECK(api.http
              .post("/auth/otp/verify",
                    json::object{{"email", victim}, {"code", "00000" + std::to_string(i)}})
              .status == 401);
  }
  CHECK(api.http.post("/auth/otp/request", json::object{{"email", victim}}).status == 202);
  long long attempts = 0;
  api.system.db("edge")
      << "SELECT o.attempts FROM otp_codes o JOIN users u USING (user_id) WHERE u.email = :e",
      soci::use(victim), soci::into(attempts);
  CHECK(attempts >= 5);
}

TEST_CASE("tokens are checked for signature algorithm expiry and audience") {
  Api api;
  const auto [buyer_id, buyer] = api.user("buyer");
  CHECK(api.http.get("/users/me", buyer).status == 200);
  CHECK(api.http.get("/users/me", forge(kSecret, buyer_id, "bazaar-api", -60)).status == 401);
  CHECK(api.http.get("/users/me", forge(kSecret, buyer_id, "someone-else", 600)).status == 401);
  CHECK(api.http
            .get("/users/me", forge("another-secret-of-more-than-32-bytes-xxxxxxxx", buyer_id,
                                    "bazaar-api", 600))
            .status == 401);
  std::string tampered = buyer;
  tampered[tampered.find('.') + 5] = tampered[tampered.find('.') + 5] == 'A' ? 'B' : 'A';
  CHECK(api.http.get("/users/me", tampered).status == 401);
  const std::string none =
      base64url(R"({"alg":"none","typ":"JWT"})") + "." +
      base64url(R"({"sub":")" + buyer_id +
                R"(","role":"admin","iss":"bazaar","aud":"bazaar-api","exp":9999999999})") +
      ".";
  CHECK(api.http.get("/admin/users", none).status == 401);

  // Refresh tokens rotate, and a reused one revokes its family.
  const std::string email = api.unique_email("refresh");
  REQUIRE(api.http
              .post("/auth/register",
                    json::object{{"email", email}, {"password", "correct horse 1"}, {"name", "R"}})
              .status == 201);
  const auto form =
      api.http.request("POST", "/auth/token", "username=" + email + "&password=correct+horse+1",
                       {{"Content-Type", "application/x-www-form-urlencoded"}});
  REQUIRE_MESSAGE(form.status == 200, form.body);
  CHECK(form.json().at("token_type").as_string() == "bearer");
  const std::string first(form.json().at("refresh_token").as_string());
  const auto rotated = api.http.post("/auth/refresh", json::object{{"refresh_token", first}});
  REQUIRE(rotated.status == 200);
  const std::string second(rotated.json().at("refresh_token").as_string());
  CHECK(api.http.post("/auth/refresh", json::object{{"refresh_token", first}}).status == 401);
  CHECK(api.http.post("/auth/refresh", json::object{{"refresh_token", second}}).status == 401);
}

TEST_CASE("HTTP framing the server cannot trust is refused, and no request can end the server") {
  Api api;
  const auto [buyer_id, buyer] = api.user("buyer");
  // The status of every answer on the connection.
  const auto statuses = [](const std::string& answer) {
    std::vector<std::string> out;
    const std::regex status_line("HTTP/1\\.[01] ([0-9]{3}) ");
    for (auto it = std::sregex_iterator(answer.begin(), answer.end(), status_line);
         it != std::sregex_iterator(); ++it) {
      out.push_back((*it)[1].str());
    }
    return out;
  };
  const auto live = [&] { return api.http.get("/health/live").status == 200; };
  const std::string body = "{\"name\":\"x\"}";
  const std::string chunked_patch =
      "PATCH /users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + buyer +
      "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nc";

  // A trailer field too large for the parser's fields, then a chunk extension of a mebibyte:
  // each is a 431, and the server goes on.
  const std::string trailer =
      chunked_patch + "\r\n" + body + "\r\n0\r\nX-T: " + std::string(70'000, 'x') + "\r\n\r\n";
  CHECK(statuses(api.http.raw(trailer, 5s)) == std::vector<std::string>{"431"});
  CHECK(live());
  const std::string extension =
      chunked_patch + ";a=" + std::string(1 << 20, 'x') + "\r\n" + body + "\r\n0\r\n\r\n";
  CHECK(statuses(api.http.raw(extension, 5s)) == std::vector<std::string>{"431"});
  CHECK(live());
  // A chunk far larger than the head limit streams through, and a small valid chunked body
  // still works.
  const std::string padded = std::string(60'000, ' ') + body;  // the e2e edge takes 64 KiB
  std::ostringstream size;
  size << std::hex << padded.size();
  const std::string patch_head = chunked_patch.substr(0, chunked_patch.size() - 1);
  CHECK(statuses(api.http.raw(patch_head + size.str() + "\r\n" + padded + "\r\n0\r\n\r\n", 5s)) ==
        std::vector<std::string>{"200"});
  CHECK(statuses(api.http.raw(chunked_patch + "\r\n" + body +
                                  "\r\n0\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\n"
                                  "Connection: close\r\n\r\n",
                              5s)) == std::vector<std::string>{"200", "200"});

  // A chunked body that stalls is cut off by the read timeout (1.5 s here) like any other.
  CHECK(statuses(api.http.raw(chunked_patch + "\r\n{\"na", 8s)) == std::vector<std::string>{"408"});

  // A body whose end the server cannot know: one answer, and what follows is never a request.
  const std::string smuggled = "GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  for (const char* coding :
       {"gzip", "chunked, identity", "xchunked", ";x, chunked", ",", "", "chunked;x=1"}) {
    const std::string shown(coding);
    CAPTURE(shown);
    CHECK(statuses(api.http.raw("POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                "application/json\r\nTransfer-Encoding: " +
                                    std::string(coding) + "\r\n\r\n" + smuggled,
                                5s)) == std::vector<std::string>{"400"});
  }
  CHECK(statuses(api.http.raw("POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, "
                              "chunked\r\n\r\n0\r\n\r\n" +
                                  smuggled,
                              5s)) == std::vector<std::string>{"501"});
  CHECK(statuses(api.http.raw("POST /auth/login HTTP/1.0\r\nConnection: keep-alive\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
                                  smuggled,
                              5s)) == std::vector<std::string>{"400"});

  // Host: exactly one, and a host.
  const std::string probe = "GET /health/live HTTP/1.1\r\nConnection: close\r\n";
  CHECK(statuses(api.http.raw(probe + "\r\n", 5s)) == std::vector<std::string>{"400"});
  CHECK(statuses(api.http.raw(probe + "Host: a\r\nHost: b\r\n\r\n", 5s)) ==
        std::vector<std::string>{"400"});
  CHECK(statuses(api.http.raw(probe + "Host: a/b@c\r\n\r\n", 5s)) ==
        std::vector<std::string>{"400"});
  CHECK(statuses(api.http.raw("GET /health/live HTTP/1.0\r\n\r\n", 5s)) ==
        std::vector<std::string>{"200"});
  // The target: a path, an absolute URL, or * for OPTIONS.
  CHECK(statuses(api.http.raw("GET health/live HTTP/1.1\r\nHost: x\r\n\r\n", 5s)) ==
        std::vector<std::string>{"400"});
  const std::string options =
      api.http.raw("OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5s);
  CHECK(statuses(options) == std::vector<std::string>{"204"});
  CHECK(options.find("\r\nAllow: ") != std::string::npos);
  CHECK(
      statuses(api.http.raw(
          "GET http://example.com/health/live?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
          5s)) == std::vector<std::string>{"200"});
  // Empty lines before a request are skipped; a major version other than 1 is a 505.
  CHECK(statuses(api.http.raw(
            "\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5s)) ==
        std::vector<std::string>{"200"});
  CHECK(statuses(api.http.raw("GET /health/live HTTP/2.0\r\nHost: x\r\n\r\n", 5s)) ==
        std::vector<std::string>{"505"});
  // A later HTTP/1 minor version is served as HTTP/1.1 (RFC 9112 2.3).
  const std::string later =
      api.http.raw("GET /health/live HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n", 5s);
  CHECK(statuses(later) == std::vector<std::string>{"200"});
  CHECK(later.starts_with("HTTP/1.1 200"));
  // /ws/ is /ws for the upgrade as for the router.
  WebSocketClient slash(api.port, "/ws/", buyer);
  CHECK(slash.handshake_status() == 101);
  // An encoded slash separates nothing.
  CHECK(api.http.get("/users%2Fme", buyer).status == 404);
  CHECK(api.http.get("/users/me", buyer).status == 200);
  // A GET route answers HEAD too, and says so.
  const auto wrong = api.http.send("DELETE", "/health/live", json::value());
  CHECK(wrong.status == 405);
  CHECK(wrong.header("allow").find("HEAD") != std::string::npos);
  // HEAD where only POST is served is refused as HEAD, with no body after the head.
  const std::string head_post =
      api.http.raw("HEAD /orders/x/cancel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5s);
  CHECK(head_post.starts_with("HTTP/1.1 405"));
  CHECK(head_post.find("Allow: POST") != std::string::npos);
  CHECK(head_post.ends_with("\r\n\r\n"));
}

TEST_CASE("bad requests get clear problems and nothing is half written") {
  Api api;
  const auto [buyer_id, buyer] = api.user("buyer");
  const auto malformed = api.http.request(
      "POST", "/orders", "{not json",
      {{"Authorization", "Bearer " + buyer}, {"Content-Type", "application/json"}});
  CHECK(malformed.status == 400);
  CHECK(malformed.header("content-type") == "application/problem+json");
  const auto invalid = api.http.post(
      "/orders",
      json::object{{"lines", json::array{json::object{{"product_id", "x"}, {"quantity", -1}}}}},
      buyer);
  CHECK(invalid.status == 422);
  CHECK(invalid.body.find("product_id") != std::string::npos);
  CHECK(invalid.body.find("quantity") != std::string::npos);
  const auto big = api.http.request("POST", "/auth/login", std::string(200'000, 'x'),
                                    {{"Content-Type", "application/json"}});
  CHECK(big.status == 413);
  // A client that sends half a request and stalls is cut off by the read timeout.
  const std::string slow =
      api.http.raw("POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"em", 5s);
  CHECK((slow.empty() || slow.find(" 408 ") != std::string::npos));
  CHECK(api.http.get("/nowhere").status == 404);

  // Idempotency-Key: the same request twice is one order.
  const auto [seller_id, seller] = api.user("seller");
  const std::string product = api.product(seller, 5, 5);
  const json::object body{
      {"lines", json::array{json::object{{"product_id", product}, {"quantity", 1}}}},
      {"payment_token", "tok_ok"}};
  const auto first = api.http.post("/orders", body, buyer, {{"Idempotency-Key", "k-1"}});
  const auto again = api.http.post("/orders", body, buyer, {{"Idempotency-Key", "k-1"}});
  REQUIRE(first.status == 202);
  CHECK(again.status == 202);
  CHECK(again.json().at("id") == first.json().at("id"));
  long long orders = 0;
  std::string buyer_uuid = buyer_id;
  api.system.db("edge") << "SELECT count(*) FROM orders_view WHERE buyer_id = CAST(:b AS uuid)",
      soci::use(buyer_uuid), soci::into(orders);
  CHECK(orders == 1);
  // A request that waited for its outcome is replayed with that outcome, not its acceptance.
  const std::vector<std::pair<std::string, std::string>> waiting{{"Idempotency-Key", "k-2"},
                                                                 {"Prefer", "wait=20"}};
  const auto settled = api.http.post("/orders", body, buyer, waiting);
  REQUIRE_MESSAGE(settled.status == 200, settled.body);
  const auto replay = api.http.post("/orders", body, buyer, waiting);
  CHECK(replay.status == 200);
  CHECK(replay.header("idempotent-replayed") == "true");
  CHECK(replay.json().at("status") == settled.json().at("status"));
  CHECK(replay.header("location") == settled.header("location"));
  // So is one whose wait ended first (no token: the order rests awaiting its payment).
  const json::object pay_later{
      {"lines", json::array{json::object{{"product_id", product}, {"quantity", 1}}}}};
  const std::vector<std::pair<std::string, std::string>> short_wait{{"Idempotency-Key", "k-3"},
                                                                    {"Prefer", "wait=2"}};
  const auto unsettled = api.http.post("/orders", pay_later, buyer, short_wait);
  REQUIRE_MESSAGE(unsettled.status == 202, unsettled.body);
  CHECK(unsettled.json().at("status") != json::value("PLACED"));
  const auto unsettled_again = api.http.post("/orders", pay_later, buyer, short_wait);
  CHECK(unsettled_again.status == 202);
  CHECK(unsettled_again.header("idempotent-replayed") == "true");
  CHECK(unsettled_again.json().at("status") == unsettled.json().at("status"));

  // Password guessing from one address runs into the sign-in rate limit (last: it uses up
  // this address's allowance).
  HttpResult limited;
  for (int i = 0; i < 60 && limited.status != 429; ++i) {
    limited = api.http.post(
        "/auth/login",
        json::object{{"email", "guess@bazaar.test"}, {"password", "guess-" + std::to_string(i)}});
  }
  CHECK(limited.status == 429);
  CHECK_FALSE(limited.header("retry-after").empty());
}

TEST_CASE("the API document and the docs page are served") {
  Api api;
  const auto doc = api.http.get("/openapi.yaml");
  CHECK(doc.status == 200);
  CHECK(doc.body.find("openapi: 3.1.0") != std::string::npos);
  const auto page = api.http.get("/docs");
  CHECK(page.status == 200);
  CHECK(page.body.find("/docs/assets/swagger-ui-bundle.js") != std::string::npos);
  CHECK(api.http.get("/docs/assets/swagger-ui-bundle.js").status == 200);
  CHECK(api.http.get("/health/ready").status == 200);
}

TEST_CASE("admins manage users and products and every write is visible at once") {
  Api api;
  const std::string admin = api.admin_token();
  const auto [seller_id, seller] = api.user("seller");
  const auto [rival_id, rival] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const std::string product = api.product(seller, 15, 4);

  // Read-your-writes: the order is there the moment POST answers, before any saga step.
  const auto posted = api.http.post(
      "/orders",
      json::object{{"lines", json::array{json::object{{"product_id", product}, {"quantity", 1}}}},
                   {"payment_token", "tok_ok"}},
      buyer);
  REQUIRE(posted.status == 202);
  const std::string order_id(posted.json().at("id").as_string());
  CHECK(posted.header("location") == "/orders/" + order_id);
  CHECK(api.http.get("/orders/" + order_id, buyer).status == 200);
  CHECK(api.wait_order_status(buyer, order_id) == "CONFIRMED");
  CHECK(api.http
            .send("PATCH", "/orders/" + order_id + "/status", json::object{{"status", "DELIVERED"}},
                  admin)
            .status == 409);
  CHECK(api.http
            .send("PATCH", "/orders/" + order_id + "/status", json::object{{"status", "SHIPPED"}},
                  admin)
            .status == 202);

  // Sellers change only their own products; admins delete.
  CHECK(api.http.send("PATCH", "/products/" + product, json::object{{"price", 16}}, rival).status ==
        403);
  CHECK(
      api.http.send("PATCH", "/products/" + product, json::object{{"price", 16}}, seller).status ==
      202);
  CHECK(api.http.get("/products/" + product).json().at("price").to_number<double>() == 16.0);
  CHECK(api.http.send("PUT", "/products/" + product + "/stock", json::object{{"stock", 9}}, rival)
            .status == 403);
  CHECK(api.http.send("DELETE", "/products/" + product, json::value(), admin).status == 202);
  CHECK(api.http.get("/products/" + product).status == 404);

  // Promotion takes effect at once; a disabled user is locked out at once.
  const auto promoted =
      api.http.send("PATCH", "/admin/users/" + buyer_id, json::object{{"role", "seller"}}, admin);
  REQUIRE(promoted.status == 200);
  CHECK(promoted.json().at("role").as_string() == "seller");
  CHECK(api.http.get("/sellers/me/products", buyer).status == 200);
  CHECK(api.http.send("PATCH", "/admin/users/" + rival_id, json::object{{"disabled", true}}, admin)
            .status == 200);
  CHECK(api.http.get("/users/me", rival).status == 401);
  CHECK(api.http.send("DELETE", "/admin/users/" + rival_id, json::value(), admin).status == 204);
  const auto me = api.http.get("/users/me", admin);
  CHECK(api.http
            .send("DELETE", "/admin/users/" + std::string(me.json().at("id").as_string()),
                  json::value(), admin)
            .status == 409);
}

TEST_CASE("strings the database cannot hold are refused with 422 naming the field") {
  Api api;
  const auto nul_name = api.http.request(
      "POST", "/auth/register",
      R"({"email":"nul@bazaar.test","password":"correct horse 1","name":"Eve\u0000il"})",
      {{"Content-Type", "application/json"}});
  CHECK(nul_name.status == 422);
  CHECK(nul_name.header("content-type") == "application/problem+json");
  CHECK(nul_name.body.find(R"("field":"name")") != std::string::npos);

  const auto [seller_id, seller] = api.user("seller");
  const auto nul_product = api.http.request(
      "POST", "/products",
      R"({"name":"Tea\u0000pot","description":"d","price":1,"category":"kitchen","stock":1})",
      {{"Authorization", "Bearer " + seller}, {"Content-Type", "application/json"}});
  CHECK(nul_product.status == 422);
  CHECK(nul_product.body.find(R"("field":"name")") != std::string::npos);
  const std::string product = api.product(seller, 2, 1);
  const auto nul_patch = api.http.request(
      "PATCH", "/products/" + product, R"({"description":"line\nand a bell\u0007"})",
      {{"Authorization", "Bearer " + seller}, {"Content-Type", "application/json"}});
  CHECK(nul_patch.status == 422);
  CHECK(nul_patch.body.find(R"("field":"description")") != std::string::npos);
  // Free text keeps its new lines and tabs.
  const auto multiline = api.http.request(
      "PATCH", "/products/" + product, R"({"description":"line one\nline\ttwo"})",
      {{"Authorization", "Bearer " + seller}, {"Content-Type", "application/json"}});
  CHECK(multiline.status < 300);
  CHECK(api.http.get("/products?q=%00").status == 400);
}

TEST_CASE("edge answers 503 with Retry-After while PostgreSQL is down and recovers by itself") {
  Api api;
  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const std::string product = api.product(seller, 3, 5);
  REQUIRE(api.http.get("/products/" + product).status == 200);

  auto infra = [](const std::string& command) {
    const std::string line = std::string(BAZAAR_SOURCE_ROOT "/scripts/infra ") + command;
    REQUIRE(std::system(line.c_str()) == 0);
  };
  infra("postgres-stop");
  // The product's answer was kept in memory; it is dropped once edge sees the database go.
  HttpResult read;
  tests::wait_until(15s, [&] {
    read = api.http.get("/products/" + product);
    return read.status == 503;
  });
  const auto login = api.http.post(
      "/auth/login", json::object{{"email", kAdminEmail}, {"password", kAdminPassword}});
  const bool unready =
      tests::wait_until(15s, [&] { return api.http.get("/health/ready").status == 503; });
  infra("postgres-start");
  CHECK(read.status == 503);
  CHECK(read.header("content-type") == "application/problem+json");
  CHECK_FALSE(read.header("retry-after").empty());
  CHECK(login.status == 503);
  CHECK(unready);

  // No restart of edge: its pooled connections reconnect on their own.
  CHECK(tests::wait_until(60s, [&] { return api.http.get("/products/" + product).status == 200; }));
  CHECK(tests::wait_until(30s, [&] { return api.http.get("/health/ready").status == 200; }));
  CHECK(api.http
            .post("/auth/login", json::object{{"email", kAdminEmail}, {"password", kAdminPassword}})
            .status == 200);
  const auto placed = api.order(buyer, product, 1, "tok_ok", 0);
  CHECK(api.wait_order_status(buyer, std::string(placed.at("id").as_string())) == "CONFIRMED");
}

TEST_CASE("edge on a taken port says so and exits with that reason's code") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string log = tests::required_env("BAZAAR_RUN_DIR") + "/e2e-edge-taken-port.log";
  tests::ChildProcess edge(std::string(BAZAAR_SERVICES_DIR) + "/edge/bazaar-edge", {},
                           edge_env(ntohs(addr.sin_port)), log);
  const int code = edge.wait(60s);
  ::close(fd);
  CHECK(code == static_cast<int>(events::ExitCode::port_in_use));
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("is in use") != std::string::npos);
  CHECK(text.find("terminate") == std::string::npos);
}

TEST_CASE("orders placed at once are written together, each with its own answer") {
  // Admission off: with nothing settled yet it would refuse most of a burst (tested below).
  Api api(false, {}, {{"edge", {{"BAZAAR_EDGE_ADMISSION_MAX_WAIT_MS", "0"}}}});
  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const std::string product = api.product(seller, 2.5, 1000);
  const std::string unknown = api.bus.new_id();
  // Every third names a product nobody sells; every fifth has no payment token.
  constexpr int kOrders = 30;
  const auto wanted = [&](int i) {
    json::object order{
        {"lines", json::array{json::object{{"product_id", i % 3 == 2 ? unknown : product},
                                           {"quantity", i + 1}}}}};
    if (i % 5 != 4) order["payment_token"] = "tok_ok";
    return order;
  };
  // While a test transaction holds the orders back, the placements queue behind the batches
  // the lock stops; released, the queue goes in one.
  soci::session& edge_db = api.system.db("edge");
  soci::transaction hold(edge_db);
  edge_db << "LOCK TABLE orders_view IN SHARE MODE";
  const auto metric = [&](const std::string& line) {
    const auto metrics = tests::http_get(api.system.admin_port("edge"), "/metrics").second;
    const auto at = metrics.find(line);
    return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + line.size()));
  };
  std::vector<HttpResult> answers(kOrders);
  {
    std::vector<std::jthread> clients;
    for (int i = 0; i < kOrders; ++i) {
      clients.emplace_back([&, i] {
        answers[static_cast<std::size_t>(i)] = api.http.post("/orders", wanted(i), buyer);
      });
    }
    // A batch waits for the lock, and placements wait with it or queue behind it: eight at
    // least. (A leader takes every queued placement into its batch, so the queue alone may stay
    // short.) Held for less than a client's 40 s, so that a failure here still gets its answers;
    // what edge's connections were doing is told with it.
    long long waiting = 0;
    const auto held = [&] {
      return metric("bazaar_edge_order_placements_queued{service=\"edge\"} ") +
             metric("bazaar_edge_order_placement_batch_size_sum{service=\"edge\"} ");
    };
    const bool queued = tests::wait_until(30s, [&] {
      edge_db << "SELECT count(*) FROM pg_locks WHERE NOT granted", soci::into(waiting);
      return waiting > 0 && held() >= 8;
    });
    if (!queued) {
      std::string activity;
      edge_db << "SELECT COALESCE(string_agg(COALESCE(wait_event_type, '-') || '/' || "
                 "COALESCE(wait_event, '-') || ' ' || COALESCE(state, '-') || ': ' || left(query, "
                 "80), E'\\n'), "
                 "'') FROM pg_stat_activity WHERE datname = current_database() "
                 "AND pid <> pg_backend_pid()",
          soci::into(activity);
      MESSAGE("lock waiters " << waiting << ", placements queued or in batches " << held()
                              << ", edge's connections:\n"
                              << activity);
    }
    CHECK(queued);
    hold.commit();
  }
  std::set<std::string> placed;
  for (int i = 0; i < kOrders; ++i) {
    CAPTURE(i);
    const HttpResult& a = answers[static_cast<std::size_t>(i)];
    if (i % 3 == 2) {
      CHECK(a.status == 422);
      CHECK(a.body.find("lines/0/product_id") != std::string::npos);
      continue;
    }
    CAPTURE(a.body);
    REQUIRE(a.status == 202);
    const auto body = a.json().as_object();
    const std::string id(body.at("id").as_string());
    CHECK(a.header("location") == "/orders/" + id);
    CHECK(body.at("total").to_number<double>() == doctest::Approx(2.5 * (i + 1)));
    CHECK(body.at("lines").as_array().at(0).at("quantity").as_int64() == i + 1);
    placed.insert(id);
  }
  REQUIRE(placed.size() == 20);
  // Every accepted order is in the view with its line, once; fewer transactions wrote them
  // (the first step of an order is never updated: its xmin is its placement's).
  long long rows = 0;
  long long transactions = 0;
  long long lines = 0;
  api.system.db("edge") << "SELECT count(*), count(DISTINCT s.xmin::text) FROM orders_view o "
                           "JOIN order_steps_view s ON s.order_id = o.order_id AND s.seq = 0 "
                           "WHERE o.buyer_id = CAST(:b AS uuid)",
      soci::use(buyer_id), soci::into(rows), soci::into(transactions);
  api.system.db("edge") << "SELECT count(*) FROM order_lines_view l JOIN orders_view o USING "
                           "(order_id) WHERE o.buyer_id = CAST(:b AS uuid)",
      soci::use(buyer_id), soci::into(lines);
  CHECK(rows == 20);
  CHECK(lines == 20);
  CHECK(transactions < rows);
  CHECK(metric("bazaar_edge_order_placement_batch_size_count{service=\"edge\"} ") <
        metric("bazaar_edge_order_placement_batch_size_sum{service=\"edge\"} "));
  // Each saga runs: those with a token confirm, those without wait for their payment.
  for (int i = 0; i < kOrders; ++i) {
    if (i % 3 == 2) continue;
    const std::string id(answers[static_cast<std::size_t>(i)].json().at("id").as_string());
    CAPTURE(i);
    if (i % 5 == 4) {
      CHECK(tests::wait_until(30s, [&] {
        return api.http.get("/orders/" + id, buyer).json().at("status") == "AWAITING_PAYMENT";
      }));
    } else {
      CHECK(api.wait_order_status(buyer, id) == "CONFIRMED");
    }
  }
}

TEST_CASE("edge refuses orders it could not finish in time with 503 and Retry-After") {
  // Three sagas in flight at most; payments that never answer keep them there until the
  // order service's payment deadline (2 s) cancels them.
  Api api(false, {},
          {{"edge", {{"BAZAAR_EDGE_ADMISSION_MAX_IN_FLIGHT", "3"}}},
           {"order", {{"BAZAAR_ORDER_PAYMENT_TIMEOUT_MS", "2000"}}}});
  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const std::string product = api.product(seller, 5.0, 20);
  // Placements refused for their lines never count as in flight, however many come at once:
  // each is a 422, not a 503.
  const json::object unknown{
      {"lines", json::array{json::object{{"product_id", "0190a8a4-0000-7000-8000-000000000001"},
                                         {"quantity", 1}}}},
      {"payment_token", "tok_ok"}};
  for (int i = 0; i < 10; ++i) {
    const auto answer = api.http.post("/orders", unknown, buyer);
    REQUIRE_MESSAGE(answer.status == 422, "placement " << i << ": " << answer.body);
  }
  std::vector<std::string> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.emplace_back(api.order(buyer, product, 1, "tok_timeout", 0).at("id").as_string());
  }
  const json::object order{
      {"lines", json::array{json::object{{"product_id", product}, {"quantity", 1}}}},
      {"payment_token", "tok_ok"}};
  const auto refused = api.http.post("/orders", order, buyer, {{"Idempotency-Key", "busy-1"}});
  CHECK(refused.status == 503);
  CHECK(refused.header("content-type") == "application/problem+json");
  CHECK(refused.header("retry-after") == "1");
  CHECK(refused.body.find("in flight") != std::string::npos);
  // Nothing of the refused order was written: no view row, no command, the key still free.
  long long rows = 0;
  api.system.db("edge") << "SELECT count(*) FROM orders_view WHERE buyer_id = CAST(:b AS uuid)",
      soci::use(buyer_id), soci::into(rows);
  CHECK(rows == 3);

  // Once the waiting sagas ended, the same request with the same key is accepted.
  for (const auto& id : waiting) CHECK(api.wait_order_status(buyer, id) == "CANCELLED");
  HttpResult accepted;
  CHECK(tests::wait_until(10s, [&] {
    accepted = api.http.post("/orders", order, buyer, {{"Idempotency-Key", "busy-1"}});
    return accepted.status == 202;
  }));
  const std::string id(accepted.json().at("id").as_string());
  CHECK(api.wait_order_status(buyer, id) == "CONFIRMED");
}

TEST_CASE("a search for a rare word reads the trigram indexes, not every product") {
  Api api(false);
  soci::session& sql = api.system.db("edge");
  // Enough products that walking them all costs more than the indexes, in a transaction that
  // leaves nothing behind (ANALYZE's statistics included).
  soci::transaction tx(sql);
  sql << R"sql(
    INSERT INTO products_view (product_id, seller_id, name, description, price, currency,
                               category, created_at, updated_at)
    SELECT gen_random_uuid(), gen_random_uuid(), 'bulk ' || md5(CAST(i AS text)),
           'a plain ' || md5(CAST(i * 7 AS text)), 100, 'EUR', 'bulk', now(), now()
    FROM generate_series(1, 20000) AS i)sql";
  sql << "ANALYZE products_view";
  std::string plan;
  sql << R"sql(
    EXPLAIN (FORMAT JSON)
    SELECT product_id FROM products_view
    WHERE status = 'active'
      AND (lower(name) LIKE lower('%zzqx%') ESCAPE '!'
           OR lower(description) LIKE lower('%zzqx%') ESCAPE '!')
    ORDER BY created_at DESC, product_id DESC LIMIT 21)sql",
      soci::into(plan);
  tx.rollback();
  CHECK_MESSAGE(plan.find("products_view_name_trgm") != std::string::npos, plan);
  CHECK_MESSAGE(plan.find("products_view_description_trgm") != std::string::npos, plan);
}

TEST_CASE("roles kept in memory follow every write to users, whoever writes") {
  Api api;
  const auto [buyer_id, buyer] = api.user("buyer");
  const auto hits = [&] {
    const auto metrics = tests::http_get(api.system.admin_port("edge"), "/metrics").second;
    const std::string line = R"(bazaar_edge_role_cache_total{service="edge",answer="hit"} )";
    const auto at = metrics.find(line);
    return at == std::string::npos ? 0.0 : std::stod(metrics.substr(at + line.size()));
  };
  REQUIRE(api.http.get("/users/me", buyer).status == 200);
  const double before = hits();
  REQUIRE(api.http.get("/users/me", buyer).status == 200);
  CHECK(hits() > before);  // the second request's role came from memory

  // An operator's write (or another edge instance's) reaches this edge through the table's
  // change notifications: only they can make it forget the role it holds.
  soci::session& sql = api.system.db("edge");
  sql << "UPDATE users SET disabled = true WHERE user_id = CAST(:id AS uuid)", soci::use(buyer_id);
  CHECK(tests::wait_until(10s, [&] { return api.http.get("/users/me", buyer).status == 401; }));
  CHECK(api.http.get("/users/me", buyer).status == 401);  // the refusal is kept, and holds
  sql << "UPDATE users SET disabled = false, role = 'seller' WHERE user_id = CAST(:id AS uuid)",
      soci::use(buyer_id);
  CHECK(tests::wait_until(
      10s, [&] { return api.http.get("/sellers/me/products", buyer).status == 200; }));
  CHECK(api.http.get("/users/me", buyer).json().at("role") == "seller");
}

TEST_CASE("product answers kept in memory follow every write to products_view, whoever writes") {
  Api api(false);
  const auto [seller_id, seller] = api.user("seller");
  const std::string product = api.product(seller, 7, 3);
  // A word no other product holds, for a listing of this product alone.
  const std::string tag = "zq" + product.substr(product.size() - 10);
  const std::string search = "/products?q=" + tag;
  auto found = [&] { return api.http.get(search).json().at("items").as_array().size(); };
  auto name = [&] {
    return std::string(api.http.get("/products/" + product).json().at("name").as_string());
  };
  // Read twice: the second answer may come from memory.
  REQUIRE(found() == 0);
  REQUIRE(found() == 0);
  REQUIRE(name() == name());

  // Edge's own write is in the answer to the very next read.
  REQUIRE(
      api.http
          .send("PATCH", "/products/" + product, json::object{{"name", "Kettle " + tag}}, seller)
          .status == 202);
  CHECK(name() == "Kettle " + tag);
  CHECK(found() == 1);
  CHECK(found() == 1);

  // Another process's write (another edge instance, an operator's repair) reaches this one
  // through the view's change notifications. The row is written here alone, so no event of
  // edge's own projection touches it: only the notification can make edge forget it.
  soci::session& sql = api.system.db("edge");
  std::string other;
  const std::string pot = "Pot " + tag;
  sql << R"sql(
    INSERT INTO products_view (product_id, seller_id, name, description, price, currency,
                               category, stock, created_at, updated_at)
    VALUES (gen_random_uuid(), CAST(:s AS uuid), :n, '', 500, 'EUR', 'kitchen', 2, now(), now())
    RETURNING CAST(product_id AS text))sql",
      soci::use(seller_id), soci::use(pot), soci::into(other);
  auto other_name = [&] {
    const auto r = api.http.get("/products/" + other);
    return r.status == 200 ? std::string(r.json().at("name").as_string())
                           : std::to_string(r.status);
  };
  // Edge's metrics count the reads answered from memory: one of this product's is, once no
  // other change is in flight (a read that raced one is not kept).
  auto hits = [&] {
    const std::string line = R"(bazaar_edge_product_cache_total{service="edge",answer="hit"} )";
    const auto metrics = tests::http_get(api.system.admin_port("edge"), "/metrics").second;
    const auto at = metrics.find(line);
    return at == std::string::npos ? 0.0 : std::stod(metrics.substr(at + line.size()));
  };
  const double before = hits();
  REQUIRE(tests::wait_until(10s, [&] { return other_name() == pot && hits() > before; }));
  // The listing may still be the one kept before the insert's notification arrived.
  REQUIRE(tests::wait_until(10s, [&] { return found() == 2; }));
  sql << "UPDATE products_view SET name = 'Pan' WHERE product_id = CAST(:p AS uuid)",
      soci::use(other);
  CHECK(tests::wait_until(10s, [&] { return other_name() == "Pan"; }));
  CHECK(found() == 1);
  // A statement that changes more than 100 rows announces '*': everything is forgotten.
  const double before_bulk = hits();
  REQUIRE(tests::wait_until(10s, [&] { return other_name() == "Pan" && hits() > before_bulk; }));
  sql << R"sql(
    INSERT INTO products_view (product_id, seller_id, name, description, price, currency,
                               category, created_at, updated_at)
    SELECT gen_random_uuid(), CAST(:s AS uuid), 'bulk', '', 1, 'EUR', 'bulkz', now(), now()
    FROM generate_series(1, 150))sql",
      soci::use(seller_id);
  sql << R"sql(
    UPDATE products_view SET name = CASE WHEN category = 'bulkz' THEN name ELSE 'Big pan' END
    WHERE category = 'bulkz' OR product_id = CAST(:p AS uuid))sql",
      soci::use(other);
  CHECK(tests::wait_until(10s, [&] { return other_name() == "Big pan"; }));
  sql << "DELETE FROM products_view WHERE category = 'bulkz'";
  sql << "DELETE FROM products_view WHERE product_id = CAST(:p AS uuid)", soci::use(other);
  CHECK(tests::wait_until(10s, [&] { return other_name() == "404"; }));
}

namespace {

// The command a product's row in edge's view awaits the answer to (`column`:
// awaiting_command or awaiting_stock_command), empty when none.
std::string awaited_command(soci::session& sql, const std::string& column,
                            const std::string& product) {
  soci::indicator ind = soci::i_null;
  std::string command;
  sql << "SELECT CAST(" + column +
             " AS text) FROM products_view WHERE product_id = CAST(:p AS uuid)",
      soci::use(product, "p"), soci::into(command, ind);
  return ind == soci::i_ok ? command : std::string{};
}

// Whether edge's catalog projection took in `sent` within 30 s.
bool applied_by_edge(soci::session& sql, const events::Envelope& sent) {
  return tests::wait_until(30s, [&] {
    long long n = 0;
    sql << "SELECT count(*) FROM inbox WHERE consumer = 'edge-catalog' "
           "AND ce_id = CAST(:id AS uuid)",
        soci::use(sent.id, "id"), soci::into(n);
    return n == 1;
  });
}

}  // namespace

TEST_CASE("a late catalog event never undoes a newer write of the API") {
  Api api(false);
  const auto [seller_id, seller] = api.user("seller");
  const std::string product = api.product(seller, 7, 3, "Teapot");
  soci::session& sql = api.system.db("edge");
  auto name = [&] {
    return std::string(api.http.get("/products/" + product).json().at("name").as_string());
  };
  auto awaited = [&] { return awaited_command(sql, "awaiting_command", product); };
  // Catalog's event as edge's projection reads it, sent with no cause (or `cause`, when given).
  auto late = [&](const std::string& type, const std::string& old_name,
                  const std::string& cause = {}) {
    json::object e{{"product_id", product}, {"seller_id", seller_id}, {"name", old_name},
                   {"description", ""},     {"price", 700},           {"currency", "EUR"},
                   {"category", "kitchen"}};
    if (type == "bazaar.catalog.ProductCreated.v1") {
      e["initial_stock"] = 3;
      e["created_at"] = "2026-01-01T00:00:00Z";
    } else {
      e["updated_at"] = "2026-01-01T00:00:00Z";
    }
    REQUIRE(applied_by_edge(sql, api.bus.send("catalog.events", type, product, e, false, cause)));
  };
  auto patch = [&](const std::string& new_name) {
    REQUIRE(api.http.send("PATCH", "/products/" + product, json::object{{"name", new_name}}, seller)
                .status == 202);
  };
  // The catalog's answer to the listing arrives, then nothing is awaited.
  REQUIRE(tests::wait_until(30s, [&] { return awaited().empty(); }));

  // With the catalog stopped, edge's writes wait for their answers.
  api.system.stop("catalog");
  patch("Kettle");
  CHECK_FALSE(awaited().empty());
  late("bazaar.catalog.ProductCreated.v1", "Teapot");
  CHECK(name() == "Kettle");
  patch("Pot");
  late("bazaar.catalog.ProductUpdated.v1", "Kettle");
  CHECK(name() == "Pot");
  // A cause that is no UUID answers no command, and the event is taken in all the same.
  late("bazaar.catalog.ProductUpdated.v1", "Kettle", "not-a-uuid");
  CHECK(name() == "Pot");

  // A wait no answer ended within five minutes (a dead-lettered command) holds nothing back.
  sql << "UPDATE products_view SET awaiting_since = now() - interval '6 minutes' "
         "WHERE product_id = CAST(:p AS uuid)",
      soci::use(product, "p");
  late("bazaar.catalog.ProductUpdated.v1", "Mug");
  CHECK(name() == "Mug");
  CHECK(awaited().empty());

  // The catalog refusing the awaited command ends the wait too.
  patch("Pot");
  REQUIRE(applied_by_edge(
      sql, api.bus.send("catalog.events", "bazaar.catalog.ProductCommandRejected.v1", product,
                        json::object{{"product_id", product},
                                     {"command", "bazaar.catalog.UpdateProduct.v1"},
                                     {"reason", "forbidden"}},
                        false, awaited())));
  CHECK(awaited().empty());

  // The catalog answers the three commands in order, each the catalog's word now.
  api.system.start("catalog");
  soci::session& catalog = api.system.db("catalog");
  auto answers = [&] {
    std::vector<std::string> ids(10);
    catalog << "SELECT CAST(id AS text) FROM outbox WHERE aggregateid = :p ORDER BY seq",
        soci::use(product, "p"), soci::into(ids);
    return ids;
  };
  REQUIRE(tests::wait_until(30s, [&] { return answers().size() == 4; }));
  for (const auto& id : answers()) {
    events::Envelope answer;
    answer.id = id;
    REQUIRE(applied_by_edge(sql, answer));
  }
  CHECK(name() == "Pot");
  CHECK(awaited().empty());

  // With nothing awaited, an event from elsewhere (an operator's command) is the catalog's
  // word and applies.
  late("bazaar.catalog.ProductUpdated.v1", "Jug");
  CHECK(name() == "Jug");
}

TEST_CASE("a stock set before inventory heard of its new product waits for the product") {
  Api api(false);
  const auto seller = api.user("seller").second;
  // The product's ProductCreated cannot reach inventory while the catalog service is down.
  api.system.stop("catalog");
  const auto created = api.http.post(
      "/products",
      json::object{{"name", "Kettle"}, {"price", 20}, {"category", "kitchen"}, {"stock", 0}},
      seller);
  REQUIRE(created.status == 202);
  const std::string product(created.json().at("id").as_string());
  REQUIRE(
      api.http.send("PUT", "/products/" + product + "/stock", json::object{{"stock", 50}}, seller)
          .status == 202);
  // Inventory holds the command back instead of refusing it.
  CHECK(tests::wait_until(30s, [&] {
    const auto metrics = tests::http_get(api.system.admin_port("inventory"), "/metrics").second;
    std::istringstream lines(metrics);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("bazaar_consumer_messages_total") &&
          line.find("outcome=\"retried\"") != std::string::npos &&
          line.find("topic=\"inventory.commands\"") != std::string::npos) {
        return true;
      }
    }
    return false;
  }));
  api.system.start("catalog");
  CHECK(tests::wait_until(30s, [&] {
    long long available = -1;
    api.system.db("inventory") << "SELECT available FROM stock WHERE product_id = CAST(:p AS uuid)",
        soci::use(product, "p"), soci::into(available);
    return available == 50;
  }));
  CHECK(api.http.get("/products/" + product).json().at("stock").to_number<long long>() == 50);
}

TEST_CASE("a late stock event never undoes a stock the API set, and a refusal shows inventory's") {
  Api api(false);
  const auto [seller_id, seller] = api.user("seller");
  const std::string product = api.product(seller, 7, 3, "Teapot");
  soci::session& sql = api.system.db("edge");
  auto stock = [&] {
    return api.http.get("/products/" + product).json().at("stock").to_number<long long>();
  };
  auto awaited = [&] { return awaited_command(sql, "awaiting_stock_command", product); };
  auto applied = [&](const events::Envelope& sent) { return applied_by_edge(sql, sent); };
  // Inventory's word on the stock, sent with no cause: the answer to no command edge awaits.
  auto level = [&](long long available) {
    REQUIRE(
        applied(api.bus.send("inventory.events", "bazaar.inventory.StockLevelChanged.v1", product,
                             json::object{{"product_id", product},
                                          {"on_hand", available},
                                          {"available", available},
                                          {"reserved", 0},
                                          {"sold", 0}})));
  };
  auto put = [&](long long value) {
    REQUIRE(
        api.http
            .send("PUT", "/products/" + product + "/stock", json::object{{"stock", value}}, seller)
            .status == 202);
  };
  // Inventory knows the product (its first level reached edge) before it stops.
  REQUIRE(tests::wait_until(30s, [&] {
    long long known = 0;
    sql << "SELECT count(*) FROM product_stock_view WHERE product_id = CAST(:p AS uuid)",
        soci::use(product, "p"), soci::into(known);
    return known == 1 && stock() == 3;
  }));

  // With inventory stopped, edge's stock waits for its answer.
  api.system.stop("inventory");
  put(9);
  CHECK(stock() == 9);
  REQUIRE_FALSE(awaited().empty());
  level(2);
  CHECK(stock() == 9);

  // Inventory refusing the awaited command puts its last word (2, above) back on the listing.
  REQUIRE(applied(api.bus.send(
      "inventory.events", "bazaar.inventory.StockAdjustRejected.v1", product,
      json::object{{"product_id", product}, {"reason", "forbidden"}}, false, awaited())));
  CHECK(stock() == 2);
  CHECK(awaited().empty());

  // Inventory answers both commands in order: only the answer to the last one applies.
  put(5);
  api.system.start("inventory");
  REQUIRE(tests::wait_until(30s, [&] { return awaited().empty(); }));
  CHECK(stock() == 5);
  level(4);
  CHECK(stock() == 4);
}
