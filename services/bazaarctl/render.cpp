#include "render.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>

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

// Bytes of a key, a header or a raw value that are not UTF-8 would make the JSON line invalid:
// each byte of a malformed sequence becomes U+FFFD.
std::string as_utf8(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (b < 0x80) {
      n = 1;
      cp = b;
    } else if (b >= 0xc2 && b <= 0xdf) {
      n = 2;
      cp = b & 0x1fu;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 3;
      cp = b & 0x0fu;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 4;
      cp = b & 0x07u;
    }
    bool ok = n > 0 && i + n <= bytes.size();
    for (std::size_t k = 1; ok && k < n; ++k) {
      const auto c = static_cast<unsigned char>(bytes[i + k]);
      ok = (c & 0xc0u) == 0x80u;
      cp = (cp << 6) | (c & 0x3fu);
    }
    // No overlong forms, no surrogates, nothing past U+10FFFF.
    ok = ok && !(n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) &&
         !(n == 4 && (cp < 0x10000 || cp > 0x10ffff));
    if (ok) {
      out.append(bytes, i, n);
      i += n;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
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
                          {"key", as_utf8(r.key)}};
  boost::json::object headers;
  for (const auto& [name, value] : r.headers) headers[as_utf8(name)] = as_utf8(value);
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
      out["value"] = as_utf8(r.value);
    } else {
      out["data"] = std::move(parsed);
    }
  }
  return out;
}

}  // namespace bazaar::ctl
