#include "events/log.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

using namespace bazaar::events;

TEST_CASE("a log line is one JSON object however hostile the message") {
  const std::string message = "quote \" backslash \\ newline \n tab \t nul-free {\"x\":1}";
  const std::string line = log::format_line("order", "info", message);
  CHECK(line.find('\n') == std::string::npos);
  const auto parsed = boost::json::parse(line).as_object();
  CHECK(parsed.at("msg").as_string() == message);
  CHECK(parsed.at("service").as_string() == "order");
  CHECK(parsed.at("level").as_string() == "info");
  CHECK(parsed.contains("ts"));
  CHECK_FALSE(parsed.contains("correlation_id"));
}

TEST_CASE("the thread's correlation and trace ids appear while their scope lives") {
  {
    log::ScopedContext ctx("order-9", "4bf92f3577b34da6a3ce929d0e0e4736");
    const auto parsed = boost::json::parse(log::format_line("order", "warn", "x")).as_object();
    CHECK(parsed.at("correlation_id").as_string() == "order-9");
    CHECK(parsed.at("trace_id").as_string() == "4bf92f3577b34da6a3ce929d0e0e4736");
  }
  const auto after = boost::json::parse(log::format_line("order", "warn", "x")).as_object();
  CHECK_FALSE(after.contains("correlation_id"));
}
