#include "render.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace bazaar::ctl {
namespace {

// The record's own timestamp (Kafka's, which --since and --until select on); an event's ce_time
// is the `time` beside it.
std::string timestamp_of(const Record& r) {
  return events::format_rfc3339(
      events::Clock::time_point{std::chrono::milliseconds{r.timestamp_ms}});
}

std::string time_of(const Record& r) {
  return r.event ? r.event->time : timestamp_of(r);
}

// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
std::string csv_field(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string csv_header() {
  return "topic,partition,offset,timestamp,key,id,type,source,subject,time,correlation_id,"
         "causation_id,data";
}

std::string csv_row(const Record& r) {
  std::string line = csv_field(r.topic) + "," + std::to_string(r.partition) + "," +
                     std::to_string(r.offset) + "," + csv_field(timestamp_of(r)) + "," +
                     csv_field(r.key) + ",";
  if (r.event) {
    for (const std::string* v :
         {&r.event->id, &r.event->type, &r.event->source, &r.event->subject, &r.event->time,
          &r.event->correlation_id, &r.event->causation_id}) {
      line += csv_field(*v) + ",";
    }
    line += csv_field(boost::json::serialize(r.event->data));
  } else {
    line += ",,,,,,," + csv_field(r.value);
  }
  return line;
}

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
                          {"timestamp", timestamp_of(r)},
                          {"key", r.key}};
  boost::json::object headers;
  for (const auto& [name, value] : r.headers) headers[name] = value;
  out["headers"] = std::move(headers);
  if (r.event) {
    out["id"] = r.event->id;
    out["type"] = r.event->type;
    out["source"] = r.event->source;
    out["subject"] = r.event->subject;
    out["time"] = r.event->time;
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
