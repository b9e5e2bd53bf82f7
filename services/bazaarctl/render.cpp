#include "render.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace bazaar::ctl {
namespace {

std::string time_of(const Record& r) {
  if (r.event) return r.event->time;
  return events::format_rfc3339(
      events::Clock::time_point{std::chrono::milliseconds{r.timestamp_ms}});
}

}  // namespace

std::string short_type(const std::string& ce_type) {
  const auto last = ce_type.rfind(".v");
  const auto before = last == std::string::npos ? last : ce_type.rfind('.', last - 1);
  if (before == std::string::npos) return ce_type;
  return ce_type.substr(before + 1, last - before - 1);
}

std::string table_line(const Record& r) {
  std::string line = time_of(r) + "  ";
  if (r.event) {
    line += short_type(r.event->type) + "  subject=" + r.event->subject;
    if (!r.event->correlation_id.empty()) line += "  correlation=" + r.event->correlation_id;
  } else {
    line += "(not a CloudEvent)";
  }
  line += "  key=" + r.key + "  " + r.where() + "\n    ";
  line += r.event ? boost::json::serialize(r.event->data) : r.value;
  return line;
}

boost::json::object record_json(const Record& r) {
  boost::json::object out{{"topic", r.topic},
                          {"partition", r.partition},
                          {"offset", r.offset},
                          {"timestamp", time_of(r)},
                          {"key", r.key}};
  boost::json::object headers;
  for (const auto& [name, value] : r.headers) headers[name] = value;
  out["headers"] = std::move(headers);
  if (r.event) {
    out["id"] = r.event->id;
    out["type"] = r.event->type;
    out["source"] = r.event->source;
    out["subject"] = r.event->subject;
    out["correlation_id"] = r.event->correlation_id;
    out["causation_id"] = r.event->causation_id;
    out["data"] = r.event->data;
  } else {
    boost::system::error_code ec;
    auto parsed = boost::json::parse(r.value, ec);
    if (ec) {
      out["value"] = r.value;
    } else {
      out["data"] = std::move(parsed);
    }
  }
  return out;
}

}  // namespace bazaar::ctl
