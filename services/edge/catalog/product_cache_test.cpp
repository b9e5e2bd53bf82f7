#include "catalog/product_cache.hpp"

#include <doctest/doctest.h>
#include <prometheus/counter.h>

namespace bazaar::edge {
namespace {

const std::string kA = "0190a1b2-0000-7000-8000-00000000000a";
const std::string kB = "0190a1b2-0000-7000-8000-00000000000b";

}  // namespace

TEST_CASE("nothing is kept while no listener watches the view") {
  ProductCache cache(1 << 20);
  cache.keep_product(cache.ticket(), kA, "{}");
  CHECK_FALSE(cache.product(kA));
  cache.watch(true);
  cache.keep_product(cache.ticket(), kA, "{}");
  CHECK(cache.product(kA) == "{}");
  cache.watch(false);
  CHECK_FALSE(cache.product(kA));
}

TEST_CASE("a kept answer is served until its product changes") {
  prometheus::Counter hits;
  prometheus::Counter misses;
  ProductCache cache(1 << 20, &hits, &misses);
  cache.watch(true);
  cache.keep_product(cache.ticket(), kA, "a");
  cache.keep_product(cache.ticket(), kB, "b");
  cache.keep_listing(cache.ticket(), "list", "[a,b]");
  CHECK(cache.product(kA) == "a");
  CHECK(cache.listing("list") == "[a,b]");
  CHECK(hits.Value() == 2);
  CHECK(misses.Value() == 0);

  cache.forget(kA);
  CHECK_FALSE(cache.product(kA));
  CHECK(cache.product(kB) == "b");
  CHECK_FALSE(cache.listing("list"));  // any listing may have held A
  CHECK(hits.Value() == 3);
  CHECK(misses.Value() == 2);

  cache.forget("");
  CHECK_FALSE(cache.product(kB));
  CHECK(cache.stats().entries == 0);
  CHECK(cache.stats().bytes == 0);
}

TEST_CASE("a change forgets at its start and its end, and nothing is kept while it runs") {
  ProductCache cache(1 << 20);
  cache.watch(true);
  cache.keep_product(cache.ticket(), kA, "old");
  cache.keep_listing(cache.ticket(), "list", "[old]");
  {
    const ProductCache::Change change(cache, kA);
    CHECK_FALSE(cache.product(kA));
    CHECK_FALSE(cache.listing("list"));
    // A read during the transaction may see the row before or after the commit: not kept.
    const auto during = cache.ticket();
    CHECK_FALSE(during.valid);
    cache.keep_product(during, kA, "old");
    CHECK_FALSE(cache.product(kA));
  }
  cache.keep_product(cache.ticket(), kA, "new");
  CHECK(cache.product(kA) == "new");
}

TEST_CASE("a read that began before a change is not kept after it") {
  ProductCache cache(1 << 20);
  cache.watch(true);
  const auto before = cache.ticket();
  { const ProductCache::Change change(cache, kB); }
  cache.keep_product(before, kA, "maybe old");
  CHECK_FALSE(cache.product(kA));

  const auto before_forget = cache.ticket();
  cache.forget(kB);
  cache.keep_listing(before_forget, "list", "maybe old");
  CHECK_FALSE(cache.listing("list"));

  const auto before_reconnect = cache.ticket();
  cache.watch(true);
  cache.keep_product(before_reconnect, kA, "maybe old");
  CHECK_FALSE(cache.product(kA));
}

TEST_CASE("the kept bodies stay under their byte bound") {
  ProductCache cache(100);
  cache.watch(true);
  cache.keep_product(cache.ticket(), kA, std::string(40, 'a'));  // 76 bytes with its key
  CHECK(cache.stats().bytes == 76);
  cache.keep_product(cache.ticket(), kB, std::string(40, 'b'));  // over: A goes
  CHECK_FALSE(cache.product(kA));
  CHECK(cache.product(kB) == std::string(40, 'b'));
  CHECK(cache.stats().bytes == 76);
  cache.keep_listing(cache.ticket(), "big", std::string(200, 'x'));  // never fits
  CHECK_FALSE(cache.listing("big"));
  CHECK(cache.product(kB));
}

}  // namespace bazaar::edge
