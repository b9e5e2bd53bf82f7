#include "record.hpp"

namespace bazaar::ctl {

std::string Record::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

std::string Record::where() const {
  return topic + "/" + std::to_string(partition) + "@" + std::to_string(offset);
}

Record make_record(std::string topic, std::int32_t partition, std::int64_t offset,
                   std::int64_t timestamp_ms, std::string key, std::string value,
                   events::Headers headers) {
  Record r{std::move(topic), partition,          offset,      timestamp_ms, std::move(key),
           std::move(value), std::move(headers), std::nullopt};
  if (auto decoded = events::decode(r.headers, r.value)) r.event = std::move(decoded).value();
  return r;
}

}  // namespace bazaar::ctl
