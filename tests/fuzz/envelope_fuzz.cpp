// A Kafka record as a consumer meets it, turned into an envelope the way the processor does:
// decode the CloudEvents headers and the JSON payload, refuse values no column can hold,
// validate the payload against its schema, and read it into the generated contract type. Whatever
// the record holds, this ends in a value or a dead letter, never a crash, and what decodes survives
// being written again.
//
// Input: header lines `name:value` (split at the first ':'), an empty line, then the payload.
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "contracts/contracts.hpp"
#include "events/envelope.hpp"
#include "events/errors.hpp"
#include "events/schema_registry.hpp"
#include "events/storable.hpp"
#include "fuzz_check.hpp"

using namespace bazaar;
using bazaar::fuzz::require;

namespace {

struct Record {
  events::Headers headers;
  std::string_view payload;
};

Record split_record(std::string_view input) {
  Record r;
  while (!input.empty()) {
    const auto eol = input.find('\n');
    const std::string_view line = input.substr(0, eol);
    input = eol == std::string_view::npos ? std::string_view{} : input.substr(eol + 1);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      r.headers.emplace_back(std::string(line), std::string{});
    } else {
      r.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(line.substr(colon + 1)));
    }
  }
  r.payload = input;
  return r;
}

// Equal JSON, except that a double may move by its last bits: Boost.JSON 1.81 does not round
// numbers of more than 17 significant digits exactly when it parses them (4444...45000 reads
// as 4.444444444444445E63, which reads back one ulp away). No amount we carry is a double.
bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-15 * std::fmax(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), same_json);
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& [key, member] : x) {
      const auto* other = y.if_contains(key);
      if (other == nullptr || !same_json(member, *other)) return false;
    }
    return true;
  }
  return a == b;
}

void check_same(const events::Envelope& a, const events::Envelope& b) {
  require(a.id == b.id && a.source == b.source && a.type == b.type && a.time == b.time,
          "required attributes survive to_headers and decode");
  require(a.subject == b.subject && a.correlation_id == b.correlation_id &&
              a.causation_id == b.causation_id && a.traceparent == b.traceparent,
          "optional attributes survive to_headers and decode");
  require(same_json(a.data, b.data), "the payload survives encode_payload and decode");
}

void check_time(const std::string& text) {
  const auto parsed = events::parse_rfc3339(text);
  if (!parsed) return;
  // Written back with milliseconds, a time reads as itself cut to the millisecond.
  const auto again = events::parse_rfc3339(events::format_rfc3339(*parsed));
  require(again.has_value(), "a parsed ce_time formats to a parsable one");
  const auto floor_ms = std::chrono::floor<std::chrono::milliseconds>(*parsed);
  require(*again == floor_ms, "a parsed ce_time formats to the same millisecond");
}

void check_contract(const events::SchemaRegistry& schemas, const events::Envelope& e) {
  if (!schemas.knows(e.type)) return;  // the processor dead-letters unknown types
  if (!schemas.validate(e.type, e.data).ok()) return;
  // What the schema admits, the generated type reads; and what it writes back is again valid
  // and reads as itself. A PermanentError here would dead-letter a valid event.
  std::optional<boost::json::object> once;
  try {
    once = contracts::round_trip(e.type, e.data);
  } catch (const events::PermanentError& error) {
    std::fprintf(stderr, "%s\n", error.what());
    require(false, "a payload its schema accepts decodes into the contract type");
  }
  require(once.has_value(), "every known type has a contract type");
  const boost::json::value written(*once);
  require(schemas.validate(e.type, written).ok(), "a contract type writes schema-valid JSON");
  const auto twice = contracts::round_trip(e.type, written);
  require(twice.has_value() && *twice == *once, "a contract type reads what it wrote");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const events::SchemaRegistry schemas(BAZAAR_SCHEMAS_DIR);
  const Record record = split_record(std::string_view(reinterpret_cast<const char*>(data), size));

  const auto decoded = events::decode(record.headers, record.payload);
  if (!decoded) {
    require(decoded.error().code == "undecodable", "a decode failure is undecodable");
    return 0;
  }
  const events::Envelope& e = decoded.value();
  require(e.data.is_object(), "a decoded payload is an object");
  // The processor refuses or dead-letters these before anything else reads them. Among them
  // are numbers beyond a double (1e400), which Boost.JSON reads as infinity and would write
  // back as `Infinity`, not JSON.
  if (const auto bad = events::find_unstorable(e.data)) {
    require(!bad->problem.empty(), "an unstorable value says what is wrong with it");
    return 0;
  }

  const auto again = events::decode(events::to_headers(e), events::encode_payload(e));
  require(again.ok(), "a decoded envelope encodes to a decodable record");
  check_same(e, again.value());

  const std::string trace = events::trace_id_of(e.traceparent);
  require(trace.empty() || trace.size() == 32, "a trace id is 32 hex digits or nothing");
  check_time(e.time);
  check_contract(schemas, e);
  return 0;
}
