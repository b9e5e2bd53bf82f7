#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace bazaar::events {

/// Where a polled record came from, and when its producer wrote it.
struct PolledRecord {
  std::string_view topic;
  std::int32_t partition = 0;
  std::int64_t timestamp_ms = 0;
};

/// The order in which to apply a batch polled from several partitions: each partition's
/// records in their own order, the partitions interleaved by when their records were written
/// (ties keep the order of the poll). A batch fetched over half a second can hold a user's
/// ChatBound behind the OrderConfirmed that came after it on another topic; applied in poll
/// order the notification would miss the chat. Kafka orders nothing across partitions; this
/// gives a batch the order its consumer would mostly have seen record by record.
/// Returns indices into `records`.
std::vector<std::size_t> time_order(const std::vector<PolledRecord>& records);

}  // namespace bazaar::events
