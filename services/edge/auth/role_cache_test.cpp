#include "auth/role_cache.hpp"

#include <doctest/doctest.h>

using bazaar::edge::RoleCache;

TEST_CASE("a role is kept only while changes are watched") {
  RoleCache cache(10);
  const auto before_watch = cache.ticket();
  cache.keep(before_watch, "u1", "buyer");
  CHECK_FALSE(cache.role("u1"));  // nobody would say it changed
  cache.watch(true);
  cache.keep(before_watch, "u1", "buyer");  // the watch began after the ticket
  CHECK_FALSE(cache.role("u1"));
  cache.keep(cache.ticket(), "u1", "buyer");
  CHECK(cache.role("u1") == "buyer");
  // An account that may not act is kept too, as empty.
  cache.keep(cache.ticket(), "u2", "");
  CHECK(cache.role("u2") == "");
  // The listener lost: everything kept goes, and nothing more is kept.
  cache.watch(false);
  CHECK_FALSE(cache.role("u1"));
  cache.keep(cache.ticket(), "u1", "buyer");
  CHECK_FALSE(cache.role("u1"));
}

TEST_CASE("a read that a change overtook is not kept") {
  RoleCache cache(10);
  cache.watch(true);
  const auto ticket = cache.ticket();  // a read begins, and may see the row before a commit
  cache.forget("someone else");        // any commit since then: the read may be stale
  cache.keep(ticket, "u1", "admin");
  CHECK_FALSE(cache.role("u1"));
  cache.keep(cache.ticket(), "u1", "buyer");
  cache.keep(cache.ticket(), "u2", "seller");
  cache.forget("u1");
  CHECK_FALSE(cache.role("u1"));
  CHECK(cache.role("u2") == "seller");
  cache.forget("*");
  CHECK_FALSE(cache.role("u2"));
}

TEST_CASE("the kept accounts are bounded") {
  RoleCache cache(2);
  cache.watch(true);
  cache.keep(cache.ticket(), "u1", "buyer");
  cache.keep(cache.ticket(), "u2", "buyer");
  cache.keep(cache.ticket(), "u2", "seller");  // the same account again takes no more room
  CHECK(cache.size() == 2);
  cache.keep(cache.ticket(), "u3", "buyer");
  CHECK(cache.size() == 1);
  CHECK(cache.role("u3") == "buyer");
  RoleCache off(0);
  off.watch(true);
  off.keep(off.ticket(), "u1", "buyer");
  CHECK_FALSE(off.role("u1"));
}
