#include "events/batch_order.hpp"

#include <map>
#include <utility>

namespace bazaar::events {

std::vector<std::size_t> time_order(const std::vector<PolledRecord>& records) {
  // Each partition's records, in poll order; `next` is how far each has been taken.
  std::map<std::pair<std::string_view, std::int32_t>, std::vector<std::size_t>> partitions;
  for (std::size_t i = 0; i < records.size(); ++i) {
    partitions[{records[i].topic, records[i].partition}].push_back(i);
  }
  std::vector<std::pair<const std::vector<std::size_t>*, std::size_t>> heads;
  heads.reserve(partitions.size());
  for (const auto& [key, indices] : partitions) heads.emplace_back(&indices, 0);

  std::vector<std::size_t> order;
  order.reserve(records.size());
  while (order.size() < records.size()) {
    // The head written first, or polled first among equals. Few partitions: a scan will do.
    std::pair<const std::vector<std::size_t>*, std::size_t>* best = nullptr;
    for (auto& head : heads) {
      if (head.second == head.first->size()) continue;
      const std::size_t candidate = (*head.first)[head.second];
      if (best == nullptr) {
        best = &head;
        continue;
      }
      const std::size_t current = (*best->first)[best->second];
      const auto& c = records[candidate];
      const auto& b = records[current];
      if (c.timestamp_ms < b.timestamp_ms ||
          (c.timestamp_ms == b.timestamp_ms && candidate < current)) {
        best = &head;
      }
    }
    order.push_back((*best->first)[best->second]);
    ++best->second;
  }
  return order;
}

}  // namespace bazaar::events
