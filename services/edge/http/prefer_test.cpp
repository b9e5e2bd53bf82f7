#include "http/prefer.hpp"

#include <doctest/doctest.h>

using bazaar::edge::prefer_wait;

TEST_CASE("prefer wait reads the wait preference in seconds") {
  CHECK(prefer_wait("wait=5") == 5);
  CHECK(prefer_wait("wait=0") == 0);
  CHECK(prefer_wait("  wait = 7 ") == 7);
  CHECK(prefer_wait("WAIT=3") == 3);
  CHECK(prefer_wait("wait=\"4\"") == 4);
}

TEST_CASE("prefer wait ignores other preferences and their parameters") {
  CHECK(prefer_wait("respond-async, wait=10") == 10);
  CHECK(prefer_wait("return=minimal; foo=bar, wait=2") == 2);
  CHECK(prefer_wait("handling=lenient") == std::nullopt);
  CHECK(prefer_wait("return=representation; wait=9") == std::nullopt);
  CHECK(prefer_wait("") == std::nullopt);
  CHECK(prefer_wait("waiting=3") == std::nullopt);
}

TEST_CASE("prefer wait caps long waits and refuses malformed ones") {
  CHECK(prefer_wait("wait=30") == 30);
  CHECK(prefer_wait("wait=31") == 30);
  CHECK(prefer_wait("wait=99999999999999999999") == 30);
  CHECK(prefer_wait("wait=-1") == std::nullopt);
  CHECK(prefer_wait("wait=1.5") == std::nullopt);
  CHECK(prefer_wait("wait=") == std::nullopt);
  CHECK(prefer_wait("wait") == std::nullopt);
}

TEST_CASE("prefer wait takes the first of repeated wait preferences") {
  CHECK(prefer_wait("wait=1, wait=20") == 1);
}
