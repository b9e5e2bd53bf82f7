#include "events/envelope.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <span>

#include "events/storable.hpp"

namespace bazaar::events {
namespace {

const std::string* find(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::string hex(std::uint64_t v, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kDigits[v & 0xf];
    v >>= 4;
  }
  return out;
}

bool is_hex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Error undecodable(std::string message) {
  return Error{"undecodable", std::move(message)};
}

}  // namespace

Headers to_headers(const Envelope& e) {
  Headers h{
      {std::string(header::kSpecVersion), "1.0"},
      {std::string(header::kId), e.id},
      {std::string(header::kSource), e.source},
      {std::string(header::kType), e.type},
      {std::string(header::kTime), e.time},
      {std::string(header::kContentType), "application/json"},
  };
  if (!e.subject.empty()) h.emplace_back(header::kSubject, e.subject);
  if (!e.correlation_id.empty()) h.emplace_back(header::kCorrelationId, e.correlation_id);
  if (!e.causation_id.empty()) h.emplace_back(header::kCausationId, e.causation_id);
  if (!e.traceparent.empty()) h.emplace_back(header::kTraceparent, e.traceparent);
  return h;
}

std::string encode_payload(const Envelope& e) {
  return boost::json::serialize(e.data);
}

Result<Envelope> decode(const Headers& headers, std::string_view payload) {
  const auto* spec = find(headers, header::kSpecVersion);
  if (spec == nullptr) return undecodable("missing header ce_specversion");
  if (*spec != "1.0") return undecodable("unsupported ce_specversion " + *spec);
  if (const auto* ct = find(headers, header::kContentType);
      ct != nullptr && ct->rfind("application/json", 0) != 0) {
    return undecodable("unsupported content-type " + *ct);
  }
  Envelope e;
  const std::pair<std::string_view, std::string*> required[] = {{header::kId, &e.id},
                                                                {header::kSource, &e.source},
                                                                {header::kType, &e.type},
                                                                {header::kTime, &e.time}};
  for (const auto& [name, field] : required) {
    const auto* v = find(headers, name);
    if (v == nullptr || v->empty()) return undecodable("missing header " + std::string(name));
    *field = *v;
  }
  const std::pair<std::string_view, std::string*> optional[] = {
      {header::kSubject, &e.subject},
      {header::kCorrelationId, &e.correlation_id},
      {header::kCausationId, &e.causation_id},
      {header::kTraceparent, &e.traceparent}};
  for (const auto& [name, field] : optional) {
    if (const auto* v = find(headers, name)) *field = *v;
  }
  // CloudEvents attribute values hold no control characters; one that does could neither be
  // stored (a NUL) nor carried on to the events this one causes.
  using Attributes = std::span<const std::pair<std::string_view, std::string*>>;
  for (const Attributes attributes : {Attributes(required), Attributes(optional)}) {
    for (const auto& [name, field] : attributes) {
      if (has_control_character(*field)) {
        return undecodable(std::string(name) + " holds a control character");
      }
    }
  }
  if (!Uuid::parse(e.id)) return undecodable("ce_id is not a UUID: " + e.id);
  boost::system::error_code ec;
  e.data = boost::json::parse(payload, ec);
  if (ec) return undecodable("payload is not JSON: " + ec.message());
  if (!e.data.is_object()) return undecodable("payload is not a JSON object");
  return e;
}

std::string format_rfc3339(Clock::time_point t) {
  // floor, not a cast: a time before 1970 must not print a negative millisecond.
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch());
  const auto whole = std::chrono::floor<std::chrono::seconds>(ms);
  const auto secs = static_cast<std::time_t>(whole.count());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((ms - whole).count()));
  return buf;
}

std::optional<Clock::time_point> parse_rfc3339(std::string_view text) {
  const std::string t(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &used) != 6 ||
      used != 19) {
    return std::nullopt;
  }
  std::size_t i = 19;
  long long nanos = 0;
  if (i < t.size() && t[i] == '.') {
    long long scale = 100'000'000;
    for (++i; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i) {
      nanos += (t[i] - '0') * scale;
      scale /= 10;
    }
  }
  long offset_minutes = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    const int oh = std::atoi(t.substr(i + 1, 2).c_str());
    const int om = std::atoi(t.substr(i + 4, 2).c_str());
    offset_minutes = (t[i] == '-' ? -1 : 1) * (oh * 60 + om);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != t.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  // Only what the clock can hold (nanoseconds: years 1678 to 2261); beyond, the conversion
  // would overflow.
  using Duration = Clock::time_point::duration;
  constexpr auto kLimit =
      std::chrono::duration_cast<std::chrono::seconds>(Duration::max()) - std::chrono::seconds{1};
  const auto secs = std::chrono::seconds{timegm(&tm)} - std::chrono::minutes{offset_minutes};
  if (secs > kLimit || secs < -kLimit) return std::nullopt;
  return Clock::time_point{std::chrono::duration_cast<Duration>(secs) +
                           std::chrono::duration_cast<Duration>(std::chrono::nanoseconds{nanos})};
}

std::string trace_id_of(std::string_view traceparent) {
  // version "-" trace-id(32) "-" parent-id(16) "-" flags(2)
  if (traceparent.size() != 55 || traceparent[2] != '-' || traceparent[35] != '-') return {};
  const auto id = traceparent.substr(3, 32);
  return is_hex(id) ? std::string(id) : std::string{};
}

EnvelopeFactory::EnvelopeFactory(std::string service, const Clock& clock, UuidV7Generator& ids,
                                 RandomSource random)
    : source_("/bazaar/" + std::move(service)),
      clock_(clock),
      ids_(ids),
      random_(std::move(random)) {}

Envelope EnvelopeFactory::make(std::string type, std::string subject, boost::json::value data,
                               const Envelope* cause) const {
  Envelope e;
  e.id = ids_.next().str();
  e.source = source_;
  e.type = std::move(type);
  e.time = format_rfc3339(clock_.now());
  e.subject = std::move(subject);
  e.data = std::move(data);
  std::string trace = cause != nullptr ? trace_id_of(cause->traceparent) : std::string{};
  if (trace.empty()) trace = hex(random_(), 16) + hex(random_(), 16);
  e.traceparent = "00-" + trace + "-" + hex(random_() | 1, 16) + "-01";
  if (cause != nullptr) {
    e.correlation_id = cause->correlation_id.empty() ? cause->subject : cause->correlation_id;
    e.causation_id = cause->id;
  }
  return e;
}

}  // namespace bazaar::events
