#include "render.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

using namespace bazaar;
using namespace bazaar::ctl;

TEST_CASE("a CSV row quotes what needs it and keeps the payload as JSON text") {
  events::Envelope e;
  e.id = "0190f5c2-7a1b-7c3d-8e4f-123456789abc";
  e.source = "/bazaar/order";
  e.type = "bazaar.order.OrderRejected.v1";
  e.time = "2026-11-30T08:00:00.000Z";
  e.subject = "o-1";
  e.correlation_id = "o-1";
  e.data = boost::json::object{{"order_id", "o-1"}, {"reason", "out of stock, \"sorry\""}};
  // Written to Kafka 3 ms after the event's time: the timestamp column is the record's own.
  const Record r = make_record("order.events", 2, 17, 1'796'025'600'003, "o-1",
                               events::encode_payload(e), events::to_headers(e));
  const std::string row = csv_row(r);
  CHECK(row.starts_with("order.events,2,17,2026-11-30T08:00:00.003Z,o-1,"));
  CHECK(row.find(",2026-11-30T08:00:00.000Z,") != std::string::npos);  // the event's time
  const auto json = record_json(r);
  CHECK(json.at("timestamp") == "2026-11-30T08:00:00.003Z");
  CHECK(json.at("time") == "2026-11-30T08:00:00.000Z");
  CHECK(row.find(",0190f5c2-7a1b-7c3d-8e4f-123456789abc,bazaar.order.OrderRejected.v1,") !=
        std::string::npos);
  // The payload holds commas and quotes: one quoted field with its quotes doubled.
  CHECK(row.ends_with(R"(,"{""order_id"":""o-1"",""reason"":""out of stock, \""sorry\""""}")"));
  const std::string header = csv_header();
  const auto columns = std::count(header.begin(), header.end(), ',') + 1;
  CHECK(columns == 13);

  const Record raw = make_record("t", 0, 1, 0, "k", "plain text", {});
  CHECK(csv_row(raw) == "t,0,1,1970-01-01T00:00:00.000Z,k,,,,,,,,plain text");
  CHECK(short_type("bazaar.order.OrderPlaced.v1") == "OrderPlaced");
}

TEST_CASE("a JSON line stays valid JSON whatever bytes a record holds") {
  const Record r = make_record("t", 0, 1, 0, std::string("k\xff", 2), "raw \xc3\x28 \xe2\x82\xac",
                               {{"h", std::string("\xed\xa0\x80", 3)}});
  const std::string line = boost::json::serialize(record_json(r));
  boost::system::error_code ec;
  const auto back = boost::json::parse(line, ec);
  REQUIRE_FALSE(ec);
  CHECK(back.at("key") == "k\xef\xbf\xbd");
  CHECK(back.at("value") == "raw \xef\xbf\xbd( \xe2\x82\xac");  // the euro sign kept
  CHECK(back.at("headers").at("h") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}
