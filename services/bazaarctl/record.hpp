#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "events/envelope.hpp"

namespace bazaar::ctl {

/// One record read from a topic, as bazaarctl shows and checks it.
struct Record {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = 0;  ///< the record's timestamp (producer create time)
  std::string key;
  std::string value;
  events::Headers headers;
  std::optional<events::Envelope> event;  ///< the CloudEvent it carries, when it decodes

  /// The first header named `name`, or empty.
  std::string header(std::string_view name) const;
  /// Where it is: `topic/partition@offset`.
  std::string where() const;
};

/// A record as read: decodes its CloudEvent when its headers and payload make one.
Record make_record(std::string topic, std::int32_t partition, std::int64_t offset,
                   std::int64_t timestamp_ms, std::string key, std::string value,
                   events::Headers headers);

}  // namespace bazaar::ctl
