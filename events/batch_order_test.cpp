#include "events/batch_order.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using bazaar::events::PolledRecord;
using bazaar::events::time_order;
using Order = std::vector<std::size_t>;

TEST_CASE("records of several partitions are interleaved by when they were written") {
  // Poll order: all of identity's partition, then order's, as one fetch may hand them over.
  const std::vector<PolledRecord> batch{{"order.events", 0, 200},
                                        {"order.events", 0, 300},
                                        {"identity.events", 2, 100},
                                        {"identity.events", 2, 250}};
  CHECK(time_order(batch) == Order{2, 0, 3, 1});
}

TEST_CASE("a partition's own order is kept even when its timestamps go back") {
  // A producer's clock may step back; the log's order is the one that counts.
  const std::vector<PolledRecord> batch{{"t", 0, 500}, {"t", 0, 100}, {"u", 0, 300}, {"t", 1, 200}};
  const Order order = time_order(batch);
  CHECK(order == Order{3, 2, 0, 1});
  // Each partition's records stay in poll order.
  CHECK(std::find(order.begin(), order.end(), 0) < std::find(order.begin(), order.end(), 1));
}

TEST_CASE("ties keep the order of the poll, and one partition or none is left as it is") {
  CHECK(time_order({{"a", 0, 7}, {"b", 0, 7}, {"a", 1, 7}}) == Order{0, 1, 2});
  CHECK(time_order({{"a", 0, 9}, {"a", 0, 1}, {"a", 0, 5}}) == Order{0, 1, 2});
  CHECK(time_order({}).empty());
}
