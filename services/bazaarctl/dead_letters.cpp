#include "dead_letters.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <map>
#include <tuple>

namespace bazaar::ctl {
namespace {

constexpr const char* kRedrivenFrom = "bazaar_redriven_from";
constexpr const char* kRedrivenAt = "bazaar_redriven_at";
constexpr const char* kRedrivenOriginal = "bazaar_redriven_original";
constexpr const char* kDeadLetterHeader = "bazaar_dead_letter";

template <typename Int>
std::optional<Int> to_int(const std::string& text) {
  Int n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

}  // namespace

std::string redrive_topic(const std::string& group) {
  return "dlq." + group + ".redriven";
}

std::optional<DeadLetter> dead_letter_of(const Record& r) {
  DeadLetter d;
  d.reason = r.header("dlq_reason");
  d.original_topic = r.header("dlq_original_topic");
  const auto partition = to_int<std::int32_t>(r.header("dlq_original_partition"));
  const auto offset = to_int<std::int64_t>(r.header("dlq_original_offset"));
  if (d.reason.empty() || d.original_topic.empty() || !partition || !offset) return std::nullopt;
  d.record = r;
  d.group = r.header("dlq_consumer_group");
  d.error = r.header("dlq_error");
  d.original_partition = *partition;
  d.original_offset = *offset;
  d.failed_at = r.header("dlq_failed_at");
  d.payload_omitted = r.header("dlq_payload_omitted") == "true";
  return d;
}

std::vector<FailureGroup> group_failures(const std::vector<DeadLetter>& letters,
                                         const std::set<std::string>& redriven) {
  std::map<std::tuple<std::string, std::string, std::string>, FailureGroup> groups;
  for (const auto& d : letters) {
    auto& g = groups[{d.group, d.reason, d.error}];
    if (g.count == 0) {
      g = FailureGroup{d.group, d.reason,    d.error,     0,
                       0,       d.failed_at, d.failed_at, d.record.where()};
    }
    ++g.count;
    if (redriven.contains(d.record.where())) ++g.redriven;
    if (d.failed_at < g.first_seen) g.first_seen = d.failed_at;  // RFC 3339 UTC sorts as text
    if (d.failed_at > g.last_seen) g.last_seen = d.failed_at;
  }
  std::vector<FailureGroup> out;
  for (auto& [key, g] : groups) out.push_back(std::move(g));
  return out;
}

events::OutgoingRecord redrive_record(const DeadLetter& letter, const std::string& value,
                                      const std::string& now) {
  events::OutgoingRecord out{letter.original_topic, letter.record.key, value, {}};
  for (const auto& [name, header_value] : letter.record.headers) {
    if (!name.starts_with("dlq_")) out.headers.emplace_back(name, header_value);
  }
  out.headers.emplace_back(kRedrivenFrom, letter.record.where());
  // Where the record first was: the consumer releases a parked key only for its head.
  out.headers.emplace_back(kRedrivenOriginal, letter.original_topic + "/" +
                                                  std::to_string(letter.original_partition) + "@" +
                                                  std::to_string(letter.original_offset));
  out.headers.emplace_back(kRedrivenAt, now);
  return out;
}

events::OutgoingRecord redrive_audit_record(const DeadLetter& letter, const std::string& now) {
  const std::string original = letter.original_topic + "/" +
                               std::to_string(letter.original_partition) + "@" +
                               std::to_string(letter.original_offset);
  events::OutgoingRecord out{
      redrive_topic(letter.group),
      letter.record.where(),
      boost::json::serialize(boost::json::object{{"dead_letter", letter.record.where()},
                                                 {"original", original},
                                                 {"reason", letter.reason},
                                                 {"redriven_at", now}}),
      {}};
  out.headers.emplace_back(kDeadLetterHeader, letter.record.where());
  return out;
}

std::string redriven_dead_letter(const Record& audit) {
  std::string where = audit.header(kDeadLetterHeader);
  return where.empty() ? audit.key : where;
}

}  // namespace bazaar::ctl
