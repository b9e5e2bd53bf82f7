#include "auth/contacts.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

using namespace bazaar::edge;

TEST_CASE("phone numbers are E.164") {
  CHECK(valid_e164("+4915112345678"));
  CHECK(valid_e164("+12025550143"));
  CHECK(valid_e164("+3581234"));
  CHECK_FALSE(valid_e164("4915112345678"));      // no +
  CHECK_FALSE(valid_e164("+0915112345678"));     // country codes never start with 0
  CHECK_FALSE(valid_e164("+49 151 12345678"));   // no spaces
  CHECK(valid_e164("+491511234567890"));         // 15 digits, the most
  CHECK_FALSE(valid_e164("+4915112345678901"));  // 16 digits
  CHECK_FALSE(valid_e164("+123456"));            // too short
  CHECK_FALSE(valid_e164("+49151-1234567"));
  CHECK_FALSE(valid_e164(""));
}

TEST_CASE("chat ids are numbers or @channel names") {
  const auto id = [](const char* json) { return chat_id_of(boost::json::parse(json)); };
  CHECK(id("123456789") == "123456789");
  CHECK(id("-1001234567890") == "-1001234567890");
  CHECK(id(R"("987654321")") == "987654321");
  CHECK(id(R"("-42")") == "-42");
  CHECK(id(R"("@bazaar_news")") == "@bazaar_news");
  CHECK_FALSE(id(R"("@abc")"));  // too short a name
  CHECK_FALSE(id(R"("@bad name")"));
  CHECK_FALSE(id(R"("12a")"));
  CHECK_FALSE(id(R"("007")"));
  CHECK_FALSE(id(R"("")"));
  CHECK_FALSE(id("1.5"));
  CHECK_FALSE(id("true"));
  CHECK_FALSE(id(R"("12345678901234567890")"));
}

TEST_CASE("a phone code binds the user and the number") {
  CHECK(phone_code_subject("u", "+4915112345678") != phone_code_subject("u", "+4915112345679"));
  CHECK(phone_code_subject("u", "+1") != phone_code_subject("v", "+1"));
}
