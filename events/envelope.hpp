#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/clock.hpp"
#include "events/result.hpp"
#include "events/uuid.hpp"

namespace bazaar::events {

/// Kafka record headers as name/value pairs, in order.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// A CloudEvents 1.0 event in Kafka binary mode: attributes travel as `ce_*` headers and the
/// record value is the JSON payload.
struct Envelope {
  std::string id;              ///< ce_id, a UUIDv7
  std::string source;          ///< ce_source, `/bazaar/<service>`
  std::string type;            ///< ce_type, `bazaar.<domain>.<EventName>.v<N>`
  std::string time;            ///< ce_time, RFC 3339 UTC
  std::string subject;         ///< ce_subject, the aggregate id (also the record key)
  std::string correlation_id;  ///< ce_correlationid, the saga / order id
  std::string causation_id;    ///< ce_causationid, the ce_id that caused this event
  std::string traceparent;     ///< W3C trace context
  boost::json::value data;     ///< the payload, a JSON object
};

/// Header names of the envelope, shared by producers, consumers and tools.
namespace header {
inline constexpr std::string_view kSpecVersion = "ce_specversion";
inline constexpr std::string_view kId = "ce_id";
inline constexpr std::string_view kSource = "ce_source";
inline constexpr std::string_view kType = "ce_type";
inline constexpr std::string_view kTime = "ce_time";
inline constexpr std::string_view kSubject = "ce_subject";
inline constexpr std::string_view kCorrelationId = "ce_correlationid";
inline constexpr std::string_view kCausationId = "ce_causationid";
inline constexpr std::string_view kTraceparent = "traceparent";
inline constexpr std::string_view kContentType = "content-type";
}  // namespace header

/// The record headers of an envelope, `ce_specversion` and `content-type` included.
Headers to_headers(const Envelope& e);
/// The record value of an envelope: its payload serialised as JSON.
std::string encode_payload(const Envelope& e);
/// Rebuilds an envelope from a record; an Error with code `undecodable` names what is wrong.
Result<Envelope> decode(const Headers& headers, std::string_view payload);

/// RFC 3339 UTC with milliseconds, e.g. `2026-01-02T03:04:05.678Z`.
std::string format_rfc3339(Clock::time_point t);
/// Reads an RFC 3339 time (`Z` or a numeric offset, optional fraction); nullopt if malformed.
std::optional<Clock::time_point> parse_rfc3339(std::string_view text);
/// The trace id (32 hex digits) of a W3C traceparent, or empty when malformed.
std::string trace_id_of(std::string_view traceparent);

/// Stamps new envelopes for one service: ids, time, source, and causality from a cause.
class EnvelopeFactory {
 public:
  EnvelopeFactory(std::string service, const Clock& clock, UuidV7Generator& ids,
                  RandomSource random);
  /// A new event; when `cause` is given, correlation and trace carry over from it.
  Envelope make(std::string type, std::string subject, boost::json::value data,
                const Envelope* cause = nullptr) const;
  const Clock& clock() const { return clock_; }

 private:
  std::string source_;
  const Clock& clock_;
  UuidV7Generator& ids_;
  RandomSource random_;
};

}  // namespace bazaar::events
