// Notifications in a chat bound to a verified phone number, through a local server speaking
// the Telegram Bot API's sendMessage: verification, binding, one message per notification,
// none for a user without a chat, a 429 retried after its retry_after, and one-time codes
// asked by phone number arriving in the chat.
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "shop_api.hpp"
#include "system.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr const char* kToken = "4242:bazaar-test-token";
constexpr const char* kTooMany =
    "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: 109\r\n"
    "Connection: close\r\n\r\n"
    R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}})";
constexpr const char* kSent =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 43\r\n"
    "Connection: close\r\n\r\n"
    R"({"ok":true,"result":{"message_id":1,"a":1}})";

// A number no other test run verified: the database outlives one test.
std::string fresh_phone() {
  std::random_device rd;
  std::uniform_int_distribution<long long> digits(10'000'000, 99'999'999);
  return "+49151" + std::to_string(digits(rd));
}

// The messages the bot sent to `chat_id`.
std::vector<json::object> messages_to(const WebhookReceiver& bot, long long chat_id) {
  std::vector<json::object> out;
  for (const auto& body : bot.bodies()) {
    boost::system::error_code ec;
    const auto v = json::parse(body, ec);
    if (ec || !v.is_object()) continue;
    const auto& o = v.as_object();
    if (o.contains("chat_id") && o.at("chat_id") == json::value(chat_id)) out.push_back(o);
  }
  return out;
}

// The code the webhook got for `user_id` (the last one of `purpose`'s title).
std::string webhook_code(Api& api, const std::string& user_id) {
  std::string code;
  tests::wait_until(30s, [&] {
    for (const auto& body : api.webhook.bodies()) {
      boost::system::error_code ec;
      const auto v = json::parse(body, ec);
      if (ec || !v.is_object()) continue;
      const auto& o = v.as_object();
      if (o.contains("code") && o.contains("recipient_id") &&
          o.at("recipient_id") == json::value(user_id)) {
        code = std::string(o.at("code").as_string());
      }
    }
    return !code.empty();
  });
  return code;
}

}  // namespace

TEST_CASE("notifications reach the chat bound to a verified phone, and codes asked by phone") {
  // The bot's first answer is a 429 asking for a second's patience.
  WebhookReceiver bot(1, kTooMany, kSent);
  Api api(false, {},
          {{"notification",
            {{"BAZAAR_NOTIFICATION_CHAT_API_URL", bot.base_url() + "/tg/"},
             {"BAZAAR_NOTIFICATION_CHAT_BOT_TOKEN", kToken}}}});
  const auto seller = api.user("seller").second;
  const auto [buyer_id, buyer] = api.user("buyer");
  const auto other = api.user("buyer").second;
  const long long chat = 900'000'000 + static_cast<long long>(std::random_device{}() % 99'999'999);

  // A chat needs a verified number; numbers are E.164.
  CHECK(api.http.send("PUT", "/users/me/chat", json::object{{"chat_id", chat}}, buyer).status ==
        409);
  const auto bad =
      api.http.send("PUT", "/users/me/phone", json::object{{"phone", "0151 1234"}}, buyer);
  CHECK(bad.status == 422);
  CHECK(bad.body.find("E.164") != std::string::npos);
  const std::string phone = fresh_phone();
  const auto started =
      api.http.send("PUT", "/users/me/phone", json::object{{"phone", phone}}, buyer);
  REQUIRE_MESSAGE(started.status == 202, started.body);
  const std::string code = webhook_code(api, buyer_id);
  REQUIRE(code.size() == 6);
  const std::string wrong = code == "000000" ? "111111" : "000000";
  CHECK(api.http.post("/users/me/phone/verify", json::object{{"code", wrong}}, buyer).status ==
        422);
  const auto verified =
      api.http.post("/users/me/phone/verify", json::object{{"code", code}}, buyer);
  REQUIRE_MESSAGE(verified.status == 200, verified.body);
  CHECK(verified.json().at("phone").as_string() == phone);
  // The number names one account now.
  CHECK(api.http.send("PUT", "/users/me/phone", json::object{{"phone", phone}}, other).status ==
        409);

  CHECK(api.http.send("PUT", "/users/me/chat", json::object{{"chat_id", "12x"}}, buyer).status ==
        422);
  const auto bound = api.http.send("PUT", "/users/me/chat", json::object{{"chat_id", chat}}, buyer);
  REQUIRE_MESSAGE(bound.status == 200, bound.body);
  CHECK(api.http.get("/users/me", buyer).json().at("chat_id").as_string() == std::to_string(chat));

  // An order of each buyer: only the one with a chat gets messages, one per notification.
  const std::string product = api.product(seller, 5, 10);
  const std::string mine(api.order(buyer, product, 1, "tok_ok").at("id").as_string());
  const std::string theirs(api.order(other, product, 1, "tok_ok").at("id").as_string());
  REQUIRE(api.wait_order_status(buyer, mine) == "CONFIRMED");
  REQUIRE(api.wait_order_status(other, theirs) == "CONFIRMED");
  REQUIRE(tests::wait_until(30s, [&] {
    const auto sent = messages_to(bot, chat);
    return std::any_of(sent.begin(), sent.end(), [&](const json::object& m) {
      return std::string(m.at("text").as_string()).find(mine) != std::string::npos;
    });
  }));
  // Every notification made since the chat was bound (the verification code came before).
  const auto since_bound = [&] {
    std::size_t n = 0;
    const json::value notes = api.http.get("/notifications", buyer).json();
    for (const auto& item : notes.at("items").as_array()) n += item.at("kind") != "otp";
    return n;
  };
  CHECK(tests::wait_until(20s, [&] { return messages_to(bot, chat).size() == since_bound(); }));
  const auto sent = messages_to(bot, chat);
  CHECK(sent.size() == 1);
  CHECK(bot.bodies().size() == sent.size());  // nothing for the buyer without a chat
  for (const auto& m : sent) {
    CHECK(std::string(m.at("text").as_string()).find(theirs) == std::string::npos);
  }
  // Every request went to sendMessage of our bot; the 429 was tried again after retry_after.
  const auto arrivals = bot.arrivals();
  REQUIRE(arrivals.size() >= 2);
  for (const auto& [target, at] : arrivals) {
    CHECK(target == std::string("/tg/bot") + kToken + "/sendMessage");
  }
  CHECK(arrivals[1].second - arrivals[0].second >= 1s);

  // A one-time code asked by phone number arrives in the chat, and signs in with the number.
  const std::size_t before = messages_to(bot, chat).size();
  CHECK(api.http.post("/auth/otp/request", json::object{{"phone", phone}}).status == 202);
  std::string chat_code;
  REQUIRE(tests::wait_until(30s, [&] {
    const auto now = messages_to(bot, chat);
    if (now.size() <= before) return false;
    const std::string text(now.back().at("text").as_string());
    const auto colon = text.rfind(": ");
    if (colon == std::string::npos) return false;
    chat_code = text.substr(colon + 2);
    return chat_code.size() == 6;
  }));
  const auto signed_in =
      api.http.post("/auth/otp/verify", json::object{{"phone", phone}, {"code", chat_code}});
  REQUIRE_MESSAGE(signed_in.status == 200, signed_in.body);
  CHECK(api.http.post("/auth/otp/request", json::object{{"phone", phone}, {"email", "a@b.c"}})
            .status == 422);

  // Unbound: later notifications stay out of the chat.
  CHECK(api.http.send("DELETE", "/users/me/chat", json::object{}, buyer).status == 204);
  const std::size_t after_unbind = messages_to(bot, chat).size();
  const std::string later(api.order(buyer, product, 1, "tok_ok").at("id").as_string());
  REQUIRE(api.wait_order_status(buyer, later) == "CONFIRMED");
  REQUIRE(tests::wait_until(30s, [&] {
    const auto list = json::serialize(api.http.get("/notifications", buyer).json());
    return list.find(later) != std::string::npos;
  }));
  CHECK(messages_to(bot, chat).size() == after_unbind);

  // Bound again, then the account deleted: the notification service forgets the chat too.
  REQUIRE(api.http.send("PUT", "/users/me/chat", json::object{{"chat_id", chat}}, buyer).status ==
          200);
  const auto kept_chat = [&] {
    long long n = 0;
    api.system.db("notification")
        << "SELECT count(*) FROM users WHERE user_id = CAST(:id AS uuid) AND chat_id IS NOT NULL",
        soci::use(buyer_id), soci::into(n);
    return n;
  };
  REQUIRE(tests::wait_until(30s, [&] { return kept_chat() == 1; }));
  REQUIRE(api.http.send("DELETE", "/admin/users/" + buyer_id, json::value(), api.admin_token())
              .status == 204);
  CHECK(tests::wait_until(30s, [&] { return kept_chat() == 0; }));
}

TEST_CASE("a number verified while another account's verification of it commits is a conflict") {
  Api api;
  const std::string phone = fresh_phone();
  const auto [first_id, first] = api.user("buyer");
  const auto [second_id, second] = api.user("buyer");
  for (const auto* token : {&first, &second}) {
    REQUIRE(
        api.http.send("PUT", "/users/me/phone", json::object{{"phone", phone}}, *token).status ==
        202);
  }
  const std::string code = webhook_code(api, second_id);
  REQUIRE(code.size() == 6);
  // The first account's verification, in flight: it holds the number as every verification
  // does and has bound it, not yet committed.
  soci::session& held = api.system.db("edge");
  soci::transaction in_flight(held);
  held << "SELECT pg_advisory_xact_lock(hashtext('bazaar.verified_phone'), "
          "hashtext(CAST(:phone AS text)))",
      soci::use(phone);
  held << "UPDATE users SET phone = :phone, phone_verified_at = now() WHERE user_id = "
          "CAST(:user AS uuid)",
      soci::use(phone), soci::use(first_id);
  int status = 0;
  std::thread verify([&] {
    status = api.http.post("/users/me/phone/verify", json::object{{"code", code}}, second).status;
  });
  // Until its transaction waits for the one in flight.
  const bool waiting = tests::wait_until(10s, [&] {
    long long n = 0;
    held << "SELECT count(*) FROM pg_locks WHERE NOT granted", soci::into(n);
    return n > 0;
  });
  in_flight.commit();
  verify.join();
  CHECK(waiting);
  CHECK(status == 409);

  // A disabled account still holds its number, as the unique index counts it.
  held << "UPDATE users SET disabled = true WHERE user_id = CAST(:user AS uuid)",
      soci::use(first_id);
  const auto third = api.user("buyer").second;
  CHECK(api.http.send("PUT", "/users/me/phone", json::object{{"phone", phone}}, third).status ==
        409);
  // A deleted account gives its number up with the rest of its personal data.
  REQUIRE(api.http.send("DELETE", "/admin/users/" + first_id, json::value(), api.admin_token())
              .status == 204);
  long long kept = -1;
  held << "SELECT count(*) FROM users WHERE user_id = CAST(:user AS uuid) AND (phone IS NOT NULL "
          "OR phone_verified_at IS NOT NULL OR chat_id IS NOT NULL)",
      soci::use(first_id), soci::into(kept);
  CHECK(kept == 0);
  CHECK(api.http.send("PUT", "/users/me/phone", json::object{{"phone", phone}}, third).status ==
        202);
}
